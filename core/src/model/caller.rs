//! Who asks a pool for a client: a request handler or a background-job run.

pub use crate::caller_class::CallerClass;
use crate::slab::Id;

/// One `pool.connect()` call: the request or job run that made it, and which
/// of its checkouts it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The request or job run.
    pub id: Id,
    /// Request: the checkout number; job run: the connection number.
    pub part: u32,
    /// Request or job.
    pub class: CallerClass,
    /// Arrival number of the request, or start number of the job run: a
    /// stable name for traces (slab slots are reused).
    pub serial: u32,
}

impl Caller {
    /// Checkout `part` of request `id`, the `serial`-th request.
    pub fn request(id: Id, part: u32, serial: u32) -> Caller {
        Caller {
            id,
            part,
            class: CallerClass::Request,
            serial,
        }
    }

    /// Connection `part` of job run `id`, the `serial`-th run.
    pub fn job(id: Id, part: u32, serial: u32) -> Caller {
        Caller {
            id,
            part,
            class: CallerClass::Job,
            serial,
        }
    }

    /// Request or job.
    pub fn class(self) -> CallerClass {
        self.class
    }
}
