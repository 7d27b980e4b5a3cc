//! Who asks a pool for a client, as a class: a request handler or a
//! background-job run. A leaf module: the model tags every checkout with
//! it and the metrics report the classes apart, without either importing
//! the other.

/// The two classes of pool users, reported apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallerClass {
    /// A request handler.
    Request,
    /// A background-job run.
    Job,
}
