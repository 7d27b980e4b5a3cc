//! pg-pool's idle clients: a stack, the most recently released on top
//! (a checkout takes the top one).
//!
//! The top entry may be kept inline, in the pool itself, the rest in a
//! vector. A release puts its client in the inline place when it is free,
//! and a checkout takes it from there: a pool that serves one request at a
//! time never reads or writes the vector — in a fleet of thousands of pools
//! that read is a cache miss.

use crate::slab::Id;

/// Idle clients, bottom (longest idle) to top (released last).
#[derive(Debug, Default)]
pub struct IdleStack {
    /// The top entry, unless it is the last one of `below` (or the stack
    /// is empty).
    top: Option<Id>,
    /// The entries below it, bottom first.
    below: Vec<Id>,
}

impl IdleStack {
    /// Entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.below.len() + usize::from(self.top.is_some())
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.top.is_none() && self.below.is_empty()
    }

    /// Put `id` on top.
    #[inline]
    pub fn push(&mut self, id: Id) {
        if let Some(old) = self.top.replace(id) {
            self.below.push(old);
        }
    }

    /// The top entry if it is kept inline: a hint that reads no vector.
    #[inline(always)]
    pub fn inline_top(&self) -> Option<Id> {
        self.top
    }

    /// Take the top entry.
    #[inline]
    pub fn pop(&mut self) -> Option<Id> {
        self.top.take().or_else(|| self.below.pop())
    }

    /// The entry at `index` from the bottom.
    pub fn get(&self, index: usize) -> Option<Id> {
        match index.cmp(&self.below.len()) {
            std::cmp::Ordering::Less => Some(self.below[index]),
            std::cmp::Ordering::Equal => self.top,
            std::cmp::Ordering::Greater => None,
        }
    }

    /// Remove the entry at `index` from the bottom; those above move down.
    pub fn remove(&mut self, index: usize) -> Id {
        match self.top {
            Some(top) if index == self.below.len() => {
                self.top = None;
                top
            }
            _ => self.below.remove(index),
        }
    }

    /// Remove `id` if it is there.
    pub fn remove_id(&mut self, id: Id) {
        let index = self.iter().position(|i| i == id);
        if let Some(index) = index {
            self.remove(index);
        }
    }

    /// Every entry, bottom first.
    pub fn iter(&self) -> impl Iterator<Item = Id> + '_ {
        self.below.iter().copied().chain(self.top)
    }

    /// Empty the stack, returning its entries bottom first.
    pub fn take_all(&mut self) -> Vec<Id> {
        let mut all = std::mem::take(&mut self.below);
        all.extend(self.top.take());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slab::Slab;

    /// The same operations on the stack and on a plain vector (bottom
    /// first) leave the same entries in the same order.
    #[test]
    fn behaves_as_a_vector_with_its_top_at_the_end() {
        let mut ids = Slab::default();
        let ids: Vec<Id> = (0..8).map(|k| ids.insert(k)).collect();
        let mut stack = IdleStack::default();
        let mut model: Vec<Id> = Vec::new();
        let mut x: u64 = 5;
        for _ in 0..5_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let id = ids[(x >> 40) as usize % ids.len()];
            match (x >> 20) % 6 {
                0 | 1 => {
                    stack.push(id);
                    model.push(id);
                }
                2 | 3 => assert_eq!(stack.pop(), model.pop()),
                4 if !model.is_empty() => {
                    let i = (x >> 50) as usize % model.len();
                    assert_eq!(stack.get(i), Some(model[i]));
                    assert_eq!(stack.remove(i), model.remove(i));
                }
                4 => {}
                _ => {
                    stack.remove_id(id);
                    if let Some(i) = model.iter().position(|&m| m == id) {
                        model.remove(i);
                    }
                }
            }
            if let Some(top) = stack.inline_top() {
                assert_eq!(Some(&top), model.last());
            }
            assert_eq!(stack.len(), model.len());
            assert_eq!(stack.is_empty(), model.is_empty());
            assert_eq!(stack.iter().collect::<Vec<_>>(), model);
            assert_eq!(stack.get(model.len()), None);
        }
        assert_eq!(stack.take_all(), model);
        assert!(stack.is_empty());
    }
}
