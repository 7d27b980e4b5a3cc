//! The exported metric families: names, types, units and help texts.

/// An OpenMetrics metric type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Monotonic count; samples end in `_total`.
    Counter,
    /// A value read at the instant.
    Gauge,
    /// `_bucket{le}`, `_count`, `_sum`.
    Histogram,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Every exported metric family, in the order they are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// postgres_exporter: backends by database and state.
    StatActivityCount,
    /// postgres_exporter: `max_connections`.
    MaxConnections,
    /// postgres_exporter: `superuser_reserved_connections`.
    SuperuserReservedConnections,
    /// postgres_exporter: `reserved_connections` (PostgreSQL 16).
    ReservedConnections,
    /// Pool `totalCount`.
    PoolSize,
    /// Pool `idleCount`.
    PoolIdle,
    /// Pool `waitingCount`.
    PoolWaiting,
    /// Pool `max`.
    PoolMax,
    /// `pool.connect()` waits.
    AcquireWait,
    /// Requests failed by the pool.
    AcquireErrors,
    /// Client-visible answers by status code.
    HttpRequests,
    /// Client-observed latency.
    HttpDuration,
    /// Ground truth: server slots held by leaked clients.
    LeakedConnections,
    /// Ground truth: timeline events, for annotations.
    TimelineEvent,
}

impl Metric {
    /// Every family, in file order.
    pub const ALL: [Metric; 14] = [
        Metric::StatActivityCount,
        Metric::MaxConnections,
        Metric::SuperuserReservedConnections,
        Metric::ReservedConnections,
        Metric::PoolSize,
        Metric::PoolIdle,
        Metric::PoolWaiting,
        Metric::PoolMax,
        Metric::AcquireWait,
        Metric::AcquireErrors,
        Metric::HttpRequests,
        Metric::HttpDuration,
        Metric::LeakedConnections,
        Metric::TimelineEvent,
    ];

    /// The family name (a counter's samples add `_total`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::StatActivityCount => "pg_stat_activity_count",
            Metric::MaxConnections => "pg_settings_max_connections",
            Metric::SuperuserReservedConnections => "pg_settings_superuser_reserved_connections",
            Metric::ReservedConnections => "pg_settings_reserved_connections",
            Metric::PoolSize => "pg_pool_size",
            Metric::PoolIdle => "pg_pool_idle_connections",
            Metric::PoolWaiting => "pg_pool_waiting_connections",
            Metric::PoolMax => "pg_pool_max",
            Metric::AcquireWait => "pg_pool_acquire_wait_seconds",
            Metric::AcquireErrors => "pg_pool_acquire_errors",
            Metric::HttpRequests => "http_requests",
            Metric::HttpDuration => "http_request_duration_seconds",
            Metric::LeakedConnections => "pooldrill_leaked_connections",
            Metric::TimelineEvent => "pooldrill_timeline_event",
        }
    }

    /// Its type.
    pub fn kind(self) -> Kind {
        match self {
            Metric::AcquireWait | Metric::HttpDuration => Kind::Histogram,
            Metric::AcquireErrors | Metric::HttpRequests => Kind::Counter,
            _ => Kind::Gauge,
        }
    }

    /// Its `# HELP` text.
    pub fn help(self) -> &'static str {
        match self {
            Metric::StatActivityCount => {
                "number of connections in this state (backends still in their handshake are not counted)"
            }
            Metric::MaxConnections => "Server Parameter: max_connections",
            Metric::SuperuserReservedConnections => {
                "Server Parameter: superuser_reserved_connections"
            }
            Metric::ReservedConnections => "Server Parameter: reserved_connections",
            Metric::PoolSize => {
                "The current size of the connection pool, including active and idle members (totalCount)."
            }
            Metric::PoolIdle => "The total number of idle connections (idleCount).",
            Metric::PoolWaiting => "The total number of waiting clients (waitingCount).",
            Metric::PoolMax => "The maximum size of the connection pool.",
            Metric::AcquireWait => {
                "Time pool.connect() waited for a client, request and job acquires."
            }
            Metric::AcquireErrors => {
                "Requests failed by pool.connect(): acquire timeouts and too_many_connections refusals."
            }
            Metric::HttpRequests => {
                "Answers given to clients by status code (504: the client gave up at its deadline)."
            }
            Metric::HttpDuration => {
                "Client-observed latency: arrival to answer, or to the deadline for clients that gave up."
            }
            Metric::LeakedConnections => {
                "pooldrill ground truth: server slots held by leaked clients."
            }
            Metric::TimelineEvent => {
                "pooldrill ground truth: 1 at the instant of a timeline event (deploy, rollback, first refusal, alert transitions)."
            }
        }
    }

    pub(super) fn unit(self) -> Option<&'static str> {
        self.name().ends_with("_seconds").then_some("seconds")
    }
}
