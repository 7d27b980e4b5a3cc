//! PostgreSQL's connection slots (docs/semantics.md#slots and #refusals).
//!
//! When the model checks the cap, in PostgreSQL's own order:
//! 1. At the start of a connection (the fork), the backend claims a slot. If
//!    every one of `max_connections` is taken, the attempt is refused at
//!    once, before authentication, with `sorry, too many clients already`
//!    (about 2 ms).
//! 2. After authentication (a fraction `reserve_check_at` of the setup time)
//!    an ordinary role is refused with `remaining connection slots are
//!    reserved for …` unless at least `superuser_reserved + reserved` slots
//!    are still free. The backend held its slot until then.
//!
//! So concurrent connects near the cap can all be refused although a usable
//! slot is free, as measured on a real server. Other clients (monitoring,
//! psql) hold slots for the whole run.

use crate::scenario::Database as Settings;

/// The two SQLSTATE 53300 refusals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `sorry, too many clients already` — before authentication.
    TooManyClients,
    /// `remaining connection slots are reserved …` — after authentication.
    ReservedSlots,
}

/// Slot accounting of the server.
#[derive(Debug)]
pub struct Database {
    /// The server's settings.
    pub settings: Settings,
    /// Slots taken by backends of the simulated application (connecting or
    /// established).
    app_backends: u32,
    /// Of those, backends that completed their handshake.
    established: u32,
    /// Most slots ever taken at once (other clients included).
    peak_occupied: u32,
}

impl Database {
    /// A server with only the other clients connected.
    pub fn new(settings: Settings) -> Database {
        let peak = settings.other_clients;
        Database {
            settings,
            app_backends: 0,
            established: 0,
            peak_occupied: peak,
        }
    }

    /// Slots taken, other clients included.
    #[inline]
    pub fn occupied(&self) -> u32 {
        self.settings.other_clients + self.app_backends
    }

    /// Application backends holding a slot (connecting or established).
    pub fn app_backends(&self) -> u32 {
        self.app_backends
    }

    /// Application backends past their handshake.
    pub fn established(&self) -> u32 {
        self.established
    }

    /// Most slots ever taken at once.
    pub fn peak_occupied(&self) -> u32 {
        self.peak_occupied
    }

    /// A connection starts: claim a slot, or refuse before authentication.
    pub fn begin_connect(&mut self) -> Result<(), Refusal> {
        if self.occupied() >= self.settings.max_connections {
            return Err(Refusal::TooManyClients);
        }
        self.app_backends += 1;
        self.peak_occupied = self.peak_occupied.max(self.occupied());
        Ok(())
    }

    /// Authentication finished: pass the reserve check, or be refused (the
    /// slot is given back).
    pub fn check_reserve(&mut self) -> Result<(), Refusal> {
        let free = self.settings.max_connections - self.occupied();
        if free < self.settings.superuser_reserved + self.settings.reserved {
            self.app_backends -= 1;
            return Err(Refusal::ReservedSlots);
        }
        Ok(())
    }

    /// The handshake completed.
    pub fn established_one(&mut self) {
        self.established += 1;
    }

    /// A backend exits (client closed, killed, or reaped), before or after
    /// its handshake.
    pub fn release(&mut self, was_established: bool) {
        self.app_backends -= 1;
        if was_established {
            self.established -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;

    fn settings(max: u32, other: u32) -> Settings {
        Settings {
            max_connections: max,
            superuser_reserved: 3,
            reserved: 0,
            other_clients: other,
            setup: Dist::Deterministic(0.005),
            reserve_check_at: 0.85,
            too_many_clients_delay: Dist::Deterministic(0.002),
            idle_session_timeout: None,
            idle_in_transaction_timeout: None,
            cpu: None,
        }
    }

    #[test]
    fn usable_slots_then_reserved_then_too_many() {
        // 20 slots, 3 reserved, 16 others: exactly one usable slot (the
        // measured setup in docs/semantics.md#refusals).
        let mut db = Database::new(settings(20, 16));
        db.begin_connect().unwrap();
        db.check_reserve().unwrap();
        db.established_one();
        // #18: claims a slot, refused after authentication.
        db.begin_connect().unwrap();
        assert_eq!(db.check_reserve(), Err(Refusal::ReservedSlots));
        assert_eq!(db.occupied(), 17);
    }

    #[test]
    fn handshakes_in_flight_crowd_out_the_last_usable_slot() {
        let mut db = Database::new(settings(20, 16));
        // Four handshakes in flight at once each claimed a slot...
        for _ in 0..4 {
            db.begin_connect().unwrap();
        }
        assert_eq!(db.occupied(), 20);
        // ...a fifth finds none: refused before authentication.
        assert_eq!(db.begin_connect(), Err(Refusal::TooManyClients));
        // After authentication the first three see fewer than 3 free slots
        // and are refused; only the last one through gets the slot.
        for _ in 0..3 {
            assert_eq!(db.check_reserve(), Err(Refusal::ReservedSlots));
        }
        assert_eq!(db.check_reserve(), Ok(()));
        assert_eq!(db.occupied(), 17);
        assert_eq!(db.peak_occupied(), 20);
    }
}
