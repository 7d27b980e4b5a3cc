//! The `[database]` and `[pooler]` tables: PostgreSQL's slots and the pooler.

use super::*;

impl Checker<'_> {
    pub(super) fn database(&self, f: &DatabaseFile) -> Result<Database> {
        let max_connections = self.int(
            "database.max_connections",
            f.max_connections,
            500,
            1,
            262_143,
        )?;
        let superuser_reserved = self.int(
            "database.superuser_reserved_connections",
            f.superuser_reserved_connections,
            3,
            0,
            262_143,
        )?;
        let reserved = self.int(
            "database.reserved_connections",
            f.reserved_connections,
            0,
            0,
            262_143,
        )?;
        if superuser_reserved + reserved >= max_connections {
            let key = if f.reserved_connections.is_some() {
                "database.reserved_connections"
            } else {
                "database.superuser_reserved_connections"
            };
            return Err(self.err(
                key,
                format!(
                    "expected superuser_reserved_connections + reserved_connections below max_connections ({max_connections}), found {}",
                    superuser_reserved + reserved
                ),
            ));
        }
        let other_clients = self.int("database.other_clients", f.other_clients, 5, 0, 262_143)?;
        if other_clients > max_connections - superuser_reserved - reserved {
            return Err(self.err(
                "database.other_clients",
                format!(
                    "expected at most the {} usable slots, found {other_clients}",
                    max_connections - superuser_reserved - reserved
                ),
            ));
        }
        let reserve_check_at =
            self.probability("database.reserve_check_at", f.reserve_check_at, 0.85)?;
        let cpu = match (f.cpu_cores, f.cpu_contention) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(self.err(
                    "database.cpu_contention",
                    "expected database.cpu_cores with cpu_contention (contention is lost CPU), found no cpu_cores",
                ));
            }
            (Some(cores), contention) => {
                let cores = self.int("database.cpu_cores", Some(cores), 0, 1, 100_000)?;
                let contention = contention.unwrap_or(0.0);
                if !(0.0..=1.0).contains(&contention) {
                    return Err(self.err(
                        "database.cpu_contention",
                        format!("expected a fraction from 0 to 1 (of a core's work lost per active query beyond the cores), found {contention}"),
                    ));
                }
                Some(Cpu { cores, contention })
            }
        };
        Ok(Database {
            max_connections,
            superuser_reserved,
            reserved,
            other_clients,
            setup: self.dist(
                "database.setup",
                f.setup.as_ref(),
                Dist::lognormal_median_p99(0.0093, 0.015),
            )?,
            reserve_check_at,
            too_many_clients_delay: self.dist(
                "database.too_many_clients_delay",
                f.too_many_clients_delay.as_ref(),
                Dist::lognormal_median_p99(0.0023, 0.0054),
            )?,
            idle_session_timeout: self.optional_duration(f.idle_session_timeout, SimTime::ZERO),
            idle_in_transaction_timeout: self
                .optional_duration(f.idle_in_transaction_session_timeout, SimTime::ZERO),
            cpu,
        })
    }

    /// The `[pooler]` table: PgBouncer's defaults (doc/config.md).
    pub(super) fn pooler(&self, f: &PoolerFile, database: &Database) -> Result<PoolerConfig> {
        Ok(PoolerConfig {
            pool_size: self.int("pooler.pool_size", f.pool_size, 20, 1, 100_000)?,
            query_wait_timeout: self
                .optional_duration(f.query_wait_timeout, SimTime::from_secs(120)),
            server_idle_timeout: self
                .optional_duration(f.server_idle_timeout, SimTime::from_secs(600)),
            server_login_retry: f.server_login_retry.map_or(SimTime::from_secs(15), |d| d.0),
            client_setup: self.dist(
                "pooler.client_setup",
                f.client_setup.as_ref(),
                database.setup,
            )?,
        })
    }
}
