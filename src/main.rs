//! The `stsim` command: run and validate scenarios. All logic lives in the library; this
//! binary parses arguments, prints, writes output files and picks the exit code.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
