//! Command-line interface (binary only): `stsim run`, `stsim validate`.
//!
//! Exit codes: 0 ran and every SLO met; 1 ran and an SLO was missed; 2 could not run
//! (arguments, scenario, I/O); 3 an invariant was violated.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use stsim::report::timeline;
use stsim::scenario::{self, Scenario};
use stsim::sim::{Budgets, RunOptions, Simulation};
use stsim::time::{SimDuration, parse_duration};

const EXAMPLES: &str = "\
Examples:
  stsim run scenarios/quickstart.yaml
  stsim run scenarios/statefulset-basics.yaml --seed 7 --out /tmp/basics
  stsim run scenarios/quickstart.yaml --until 10m --quiet
  stsim validate scenarios/*.yaml

Exit codes: 0 ran and every SLO met, 1 ran and an SLO was missed,
            2 could not run (arguments, scenario, I/O), 3 an invariant was violated.";

#[derive(Parser, Debug)]
#[command(
    name = "stsim",
    version,
    about = "Deterministic simulator of a Kubernetes cluster running StatefulSets",
    long_about = "stsim replays a scenario (a cluster, Kubernetes manifests, timed kubectl actions) \
                  in simulated time, thousands of times faster than real time. The same scenario \
                  and seed always give the same trace, byte for byte.",
    after_help = EXAMPLES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario: print the timeline and a summary, write trace.jsonl, timeline.txt,
    /// result.json, report.md and metrics.csv.
    #[command(after_help = EXAMPLES)]
    Run {
        /// The scenario file (YAML, `kind: Scenario`).
        scenario: PathBuf,
        /// Seed of the random streams (default: the scenario's `spec.seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Stop after this much simulated time instead of the scenario's duration (Go syntax: 90s, 10m, 1h30m).
        #[arg(long, value_parser = parse_sim_duration)]
        until: Option<SimDuration>,
        /// Output directory (default: out/<scenario-name>/seed-<N>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print only the seed and the summary, not the timeline.
        #[arg(long)]
        quiet: bool,
        /// Also trace heartbeat-level writes (node Lease renewals, unchanged node status
        /// posts), left out of trace.jsonl by default.
        #[arg(long)]
        trace_heartbeats: bool,
    },
    /// Check scenario files and the manifests they reference; list fields that are not simulated.
    Validate {
        /// One or more scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
}

fn parse_sim_duration(s: &str) -> std::result::Result<SimDuration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Run {
            scenario,
            seed,
            until,
            out,
            quiet,
            trace_heartbeats,
        } => run(&scenario, seed, until, out, quiet, trace_heartbeats),
        Command::Validate { scenarios } => validate(&scenarios),
    }
}

fn load(path: &Path) -> std::result::Result<Scenario, i32> {
    scenario::load(path).map_err(|e| {
        eprintln!("{e}");
        2
    })
}

fn run(
    path: &Path,
    seed: Option<u64>,
    until: Option<SimDuration>,
    out: Option<PathBuf>,
    quiet: bool,
    trace_heartbeats: bool,
) -> i32 {
    let scenario = match load(path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let seed = seed.unwrap_or(scenario.seed);
    println!("seed: {seed}");
    let out_dir = out.unwrap_or_else(|| {
        PathBuf::from("out")
            .join(&scenario.name)
            .join(format!("seed-{seed}"))
    });
    match run_to(
        &scenario,
        path,
        seed,
        until,
        &out_dir,
        quiet,
        trace_heartbeats,
    ) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    }
}

fn run_to(
    scenario: &Scenario,
    path: &Path,
    seed: u64,
    until: Option<SimDuration>,
    out_dir: &Path,
    quiet: bool,
    trace_heartbeats: bool,
) -> Result<i32> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    let trace_path = out_dir.join("trace.jsonl");
    let trace_file = std::fs::File::create(&trace_path)
        .with_context(|| format!("cannot create {}", trace_path.display()))?;
    let until = until.unwrap_or(scenario.duration);
    println!(
        "stsim run {} (scenario {}, Kubernetes {}, {} simulated)",
        path.display(),
        scenario.name,
        scenario.kubernetes_version,
        until
    );
    let opts = RunOptions {
        seed,
        budgets: Budgets {
            until,
            max_events: 50_000_000,
        },
        trace: Some(Box::new(
            stsim::trace_file::BackgroundWriter::new(trace_file)
                .with_context(|| format!("cannot start writing {}", trace_path.display()))?,
        )),
        keep_timeline: true,
        manual_kubelets: false,
        trace_heartbeats,
    };
    #[allow(clippy::disallowed_methods)] // the CLI measures wall time for the summary
    let started = Instant::now();
    let result = Simulation::new(scenario, opts).run();
    let wall = started.elapsed();
    if let Some(e) = &result.trace_error {
        anyhow::bail!("writing {} failed: {e}", trace_path.display());
    }
    let mut text = String::new();
    text.push_str(timeline::HEADER);
    text.push('\n');
    for line in &result.timeline {
        text.push_str(&timeline::format_line(line));
        text.push('\n');
    }
    let timeline_path = out_dir.join("timeline.txt");
    std::fs::write(&timeline_path, &text)
        .with_context(|| format!("cannot write {}", timeline_path.display()))?;
    let mut outputs = vec![
        ("result.json", result.to_json_with_wall(Some(wall))),
        ("report.md", stsim::report::markdown::render(&result)),
        (
            "metrics.csv",
            stsim::report::metrics::render(&result.slis.recoveries.series),
        ),
    ];
    if !result.slis.apps.is_empty() {
        let apps = stsim::report::metrics::render_apps(&result.slis.app_series);
        outputs.push(("app-metrics.csv", apps));
    }
    for (name, content) in outputs {
        let file = out_dir.join(name);
        std::fs::write(&file, content)
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    let mut stdout = std::io::stdout().lock();
    if !quiet {
        let _ = stdout.write_all(text.as_bytes());
    }
    let _ = writeln!(stdout);
    let _ = write!(
        stdout,
        "{}",
        stsim::report::summary::render(&result, Some(wall))
    );
    let _ = writeln!(
        stdout,
        "  output: {}  ({} trace lines)",
        out_dir.display(),
        result.trace_lines
    );
    if result.exit_code() != 0 {
        let _ = writeln!(
            stdout,
            "  reproduce: stsim run {} --seed {seed}",
            path.display()
        );
    }
    Ok(result.exit_code())
}

fn validate(paths: &[PathBuf]) -> i32 {
    let mut code = 0;
    for path in paths {
        match scenario::load(path) {
            Ok(s) => {
                let nodes: usize = s.cluster.zones.iter().map(|z| z.nodes.len()).sum();
                println!(
                    "{}: ok (scenario {}: {} nodes in {} zones, {} manifests, {} actions, {} simulated)",
                    path.display(),
                    s.name,
                    nodes,
                    s.cluster.zones.len(),
                    s.manifests.len(),
                    s.actions.len(),
                    s.duration
                );
                for n in &s.not_simulated {
                    if n.path.is_empty() {
                        println!(
                            "  not simulated: {}: {} (the whole object is ignored)",
                            n.origin, n.object
                        );
                    } else {
                        println!("  not simulated: {}: {} {}", n.origin, n.object, n.path);
                    }
                }
            }
            Err(e) => {
                eprintln!("{e}");
                code = 2;
            }
        }
    }
    code
}
