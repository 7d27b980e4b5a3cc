//! `pooldrill report`: placeholder.
use clap::Args;
/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {}
/// Placeholder.
pub fn report(_: &ReportArgs, _: bool) -> anyhow::Result<i32> {
    Ok(0)
}
