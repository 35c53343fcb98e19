//! `zkctl`: ZooKeeper data and coordination from the shell. See `zkctl --help`, and the
//! README's `zkctl` section.
//!
//! Each command connects with the global options, does its work and closes its session; a
//! failure is one line on standard error and a documented exit code (`exit.rs`), never a
//! panic.
#![forbid(unsafe_code)]

mod child;
mod cli;
mod coordination;
mod data;
mod exit;
mod fourlw;
mod output;
mod recipes;
mod session;
mod subtree;
mod transfer;
mod watch;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{AclCommand, Cli, Command};
use exit::Outcome;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("zkctl: cannot start: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("zkctl: {error}");
            ExitCode::from(error.code)
        }
    }
}

/// Prints help or the version as clap does; any other parse error as one line, with the
/// usage exit code.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("bad usage");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("zkctl: {first} (see zkctl --help)");
            ExitCode::from(exit::USAGE)
        }
    }
}

/// Runs the command.
async fn run(cli: Cli) -> Outcome {
    let global = &cli.global;
    match cli.command {
        Command::Ls(args) => data::ls(global, args).await,
        Command::Tree(args) => data::tree(global, args).await,
        Command::Get(args) => data::get(global, args).await,
        Command::Set(args) => data::set(global, args).await,
        Command::Create(args) => data::create(global, args).await,
        Command::Rm(args) => data::rm(global, args).await,
        Command::Stat(args) => data::stat(global, args).await,
        Command::Acl(AclCommand::Get(args)) => data::acl_get(global, args).await,
        Command::Acl(AclCommand::Set(args)) => data::acl_set(global, args).await,
        Command::Sync(args) => data::sync(global, args).await,
        Command::Watch(args) => watch::watch(global, args).await,
        Command::Srvr(args) => fourlw::four_letter(global, args, "srvr").await,
        Command::Mntr(args) => fourlw::four_letter(global, args, "mntr").await,
        Command::Ruok(args) => fourlw::four_letter(global, args, "ruok").await,
        Command::Export(args) => transfer::export(global, args).await,
        Command::Import(args) => transfer::import(global, args).await,
        Command::Lock(args) => coordination::lock(global, args).await,
        Command::Semaphore(args) => coordination::semaphore(global, args).await,
        Command::Elect(args) => coordination::elect(global, args).await,
        Command::Queue(command) => recipes::queue(global, command).await,
        Command::Registry(command) => recipes::registry(global, command).await,
        Command::Config(command) => recipes::config(global, command).await,
        Command::Completions(args) => {
            clap_complete::generate(
                args.shell,
                &mut Cli::command(),
                "zkctl",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
    }
}
