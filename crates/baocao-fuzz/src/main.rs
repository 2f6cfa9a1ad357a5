//! `baocao-fuzz`: every parser of baocao fed generated and mutated inputs,
//! target by target; any panic is a failure, printed with the smallest
//! input proptest shrinks it to.
//!
//! ```sh
//! cargo run --release -p baocao-fuzz                  # every target, a million inputs each
//! cargo run --release -p baocao-fuzz -- xlsx --cases 50000
//! cargo run -p baocao-fuzz -- --quick                 # what CI runs: a few thousand each
//! ```
//!
//! Not a test: how many inputs are worth running depends on the time at
//! hand, so it is a command, like a benchmark.

mod targets;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

#[derive(Parser)]
#[command(name = "baocao-fuzz", about = "Feeds every parser of baocao generated and mutated inputs; none may panic.")]
struct Args {
    /// Targets to run (all when none): period, date, number, csv, xlsx,
    /// toml, dhis2-json, scim-filter.
    targets: Vec<String>,
    /// Inputs per target.
    #[arg(long, default_value_t = 1_000_000)]
    cases: u32,
    /// A few thousand inputs per target, as CI runs them.
    #[arg(long)]
    quick: bool,
    /// Seed of the generator; a different one each run when absent.
    #[arg(long)]
    seed: Option<u64>,
    /// List the targets and exit.
    #[arg(long)]
    list: bool,
}

/// Inputs run between two reports of progress, each batch with a seed of
/// its own.
const BATCH: u32 = 2_000;

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list {
        for t in targets::TARGETS {
            println!("{:<12} {}", t.name, t.about);
        }
        return ExitCode::SUCCESS;
    }
    let unknown: Vec<&String> =
        args.targets.iter().filter(|n| !targets::TARGETS.iter().any(|t| t.name == n.as_str())).collect();
    if !unknown.is_empty() {
        eprintln!("unknown target(s): {unknown:?}; see --list");
        return ExitCode::FAILURE;
    }
    let cases = if args.quick { BATCH } else { args.cases };
    let seed = args.seed.unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |d| d.as_nanos() as u64) ^ u64::from(std::process::id())
    });
    println!("seed {seed}, {cases} inputs per target");
    // Panics are what is looked for: their messages would drown the output
    // while proptest shrinks an input, so they are reported at the end.
    std::panic::set_hook(Box::new(|_| {}));
    let visible = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    let mut failed = false;
    for target in
        targets::TARGETS.iter().filter(|t| args.targets.is_empty() || args.targets.iter().any(|n| n == t.name))
    {
        let started = Instant::now();
        let bar = visible.then(|| {
            let bar = indicatif::ProgressBar::new(u64::from(cases));
            bar.set_style(
                indicatif::ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} {per_sec} {eta}")
                    .expect("a valid template"),
            );
            bar.set_prefix(target.name);
            bar
        });
        let mut done = 0;
        let mut outcome = Ok(());
        while done < cases && outcome.is_ok() {
            let batch = BATCH.min(cases - done);
            let config = Config { cases: batch, failure_persistence: None, ..Config::default() };
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            bytes[8..12].copy_from_slice(&done.to_le_bytes());
            bytes[12..16].copy_from_slice(&(target.name.len() as u32).to_le_bytes());
            bytes[16..16 + target.name.len().min(16)]
                .copy_from_slice(&target.name.as_bytes()[..target.name.len().min(16)]);
            let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
            outcome = (target.run)(&mut runner);
            done += batch;
            if let Some(bar) = &bar {
                bar.set_position(u64::from(done));
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let seconds = started.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => println!("{:<12} {done} inputs, no panic ({seconds:.1} s)", target.name),
            Err(failure) => {
                failed = true;
                println!("{:<12} PANIC after at most {done} inputs ({seconds:.1} s):\n{failure}", target.name);
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
