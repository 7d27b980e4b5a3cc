//! The `pooldrill` command.

fn main() {
    std::process::exit(pooldrill::cli::main());
}
