//! The command line: global options and every subcommand's arguments (clap derive). The
//! modules that run the commands take these structs; nothing here talks to ZooKeeper.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Examples shown at the end of `zkctl --help`.
const EXAMPLES: &str = "\
Examples:
  zkctl ls -R /app                          every node under /app
  zkctl --json get /app/config              data (text or base64) and Stat as JSON
  zkctl set /app/config '{\"x\":1}' --version 3
  zkctl create -e -s /app/workers/w- host-a  an ephemeral sequential node
  zkctl export /app -o app.json && zkctl import app.json --to /app-copy
  zkctl watch /app --recursive              events until interrupted
  zkctl lock /locks/nightly -- ./nightly.sh  run while holding the lock
  zkctl semaphore /slots/db -n 3 -- ./migrate.sh
  zkctl elect /election/api --id host-a -- ./serve.sh
  zkctl queue put /jobs 'resize 42' --priority 5

Exit codes:
  0 success (or, running a command, its own exit code; 128+N if it died by signal N)
  1 other error          2 bad usage          3 no such node
  4 version or existence conflict (BadVersion, NodeExists, NotEmpty)
  5 cannot reach ZooKeeper, or the connection failed
  6 authentication or permission refused (AuthFailed, NoAuth)
  7 timed out waiting (--timeout)
  8 lost the lock, permit or leadership while the command ran (it was stopped)
  126 the command could not be run      127 the command was not found";

/// zkctl: ZooKeeper data and coordination from the shell.
#[derive(Debug, Parser)]
#[command(name = "zkctl", version, about, after_help = EXAMPLES)]
pub(crate) struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub(crate) global: Global,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct Global {
    /// The servers: `host:port,host:port[/chroot]`.
    #[arg(
        long,
        env = "ZK_HOSTS",
        default_value = "127.0.0.1:2181",
        global = true
    )]
    pub(crate) hosts: String,
    /// The session timeout to ask for (`10s`, `1500ms`, `1m`).
    #[arg(long, default_value = "10s", value_parser = duration, global = true)]
    pub(crate) session_timeout: Duration,
    /// How long to try to connect before giving up (default: the session timeout).
    #[arg(long, value_parser = duration, global = true)]
    pub(crate) connect_timeout: Option<Duration>,
    /// Credentials to add to the session, `SCHEME:CREDENTIALS` (`digest:user:password`);
    /// repeatable.
    #[arg(long, value_name = "SCHEME:CREDENTIALS", global = true)]
    pub(crate) auth: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// Parses a duration: `10s`, `1500ms`, `2m`, or a bare number of seconds.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string());
    }
    humantime::parse_duration(text).map_err(|e| format!("{e} (try 10s, 1500ms or 2m)"))
}

/// Every command.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List a node's children (`-R`: every node below it).
    Ls(LsArgs),
    /// Draw the tree below a node.
    Tree(TreeArgs),
    /// Print a node's data.
    Get(GetArgs),
    /// Replace a node's data.
    Set(SetArgs),
    /// Create a node.
    Create(CreateArgs),
    /// Delete a node (`-r`: with everything below it).
    Rm(RmArgs),
    /// Print a node's Stat.
    Stat(PathArg),
    /// Print events on a node (or, `--recursive`, below it) until interrupted.
    Watch(WatchArgs),
    /// Read or replace a node's ACL.
    #[command(subcommand)]
    Acl(AclCommand),
    /// Make the server catch up with the leader for a path.
    Sync(PathArg),
    /// A server's `srvr` four-letter word: version, mode, latency, counts.
    Srvr(ServerArg),
    /// A server's `mntr` four-letter word: its metrics.
    Mntr(ServerArg),
    /// A server's `ruok` four-letter word: `imok` when it is up.
    Ruok(ServerArg),
    /// Save a subtree (data, ACL-free) as JSON: a backup.
    Export(ExportArgs),
    /// Create a subtree saved by `export`.
    Import(ImportArgs),
    /// Run a command while holding a lock.
    ///
    /// The command gets ZK_LOCK_PATH (the lock path), ZK_LOCK_NODE (this holder's node) and
    /// ZK_FENCING_TOKEN (a number that grows from holder to holder). If the lock is lost while
    /// it runs (session expired, node deleted, connection suspended), it gets SIGTERM, SIGKILL
    /// after --grace, and zkctl exits 8. Otherwise zkctl releases the lock and exits with the
    /// command's code. SIGINT or SIGTERM to zkctl is passed on to the command as SIGTERM.
    Lock(LockArgs),
    /// Run a command while holding one of N permits.
    ///
    /// The command gets ZK_SEMAPHORE_PATH (the semaphore path) and ZK_PERMIT (its permit's
    /// node); it is stopped as under `lock` if the permit is lost.
    Semaphore(SemaphoreArgs),
    /// Run a command while leader, or watch who leads.
    ///
    /// The command gets ZK_ELECTION_PATH (the election path), ZK_LEADER_ID (--id) and
    /// ZK_LEADER_TERM (a number that grows from leader to leader); it is stopped as under
    /// `lock` if leadership is lost, and the candidate resigns when it ends. With --observe,
    /// print the leader's id (`none` when nobody leads) and each change, one line each.
    Elect(ElectArgs),
    /// Put items into a queue and take them out.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Register a service instance, list and watch instances.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Read, write and follow a configuration value.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
}

/// A node's path.
#[derive(Debug, Args)]
pub(crate) struct PathArg {
    /// The node.
    pub(crate) path: String,
}

/// `ls`.
#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    /// The node.
    pub(crate) path: String,
    /// Every node below it, as full paths.
    #[arg(short = 'R', long)]
    pub(crate) recursive: bool,
}

/// `tree`.
#[derive(Debug, Args)]
pub(crate) struct TreeArgs {
    /// The root of the tree.
    #[arg(default_value = "/")]
    pub(crate) path: String,
    /// Show each node's data (text, shortened) beside its name.
    #[arg(long)]
    pub(crate) data: bool,
}

/// `get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// The node.
    pub(crate) path: String,
    /// Print the Stat too.
    #[arg(long)]
    pub(crate) stat: bool,
}

/// `set`.
#[derive(Debug, Args)]
pub(crate) struct SetArgs {
    /// The node.
    pub(crate) path: String,
    /// The new data; `-` reads it from standard input.
    pub(crate) data: String,
    /// Only if the node is at this data version.
    #[arg(long)]
    pub(crate) version: Option<i32>,
}

/// `create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The node (with `-s`, the prefix the sequence is appended to).
    pub(crate) path: String,
    /// Its data (none by default); `-` reads it from standard input.
    pub(crate) data: Option<String>,
    /// Ephemeral: gone when this command's session ends, so mostly useful with `lock` and
    /// friends rather than alone.
    #[arg(short, long)]
    pub(crate) ephemeral: bool,
    /// Sequential: the server appends a ten-digit number.
    #[arg(short, long)]
    pub(crate) sequential: bool,
    /// A container node (removed by the server once its last child goes).
    #[arg(long, conflicts_with_all = ["ephemeral", "sequential", "ttl"])]
    pub(crate) container: bool,
    /// A TTL node, removed once unchanged and childless this long (the server must enable
    /// TTL nodes).
    #[arg(long, value_parser = duration, conflicts_with = "ephemeral")]
    pub(crate) ttl: Option<Duration>,
    /// Create missing parents too (as persistent nodes).
    #[arg(short, long)]
    pub(crate) parents: bool,
}

/// `rm`.
#[derive(Debug, Args)]
pub(crate) struct RmArgs {
    /// The node.
    pub(crate) path: String,
    /// With everything below it.
    #[arg(short, long)]
    pub(crate) recursive: bool,
    /// Only if the node is at this data version.
    #[arg(long, conflicts_with = "recursive")]
    pub(crate) version: Option<i32>,
}

/// `watch`.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// The node.
    pub(crate) path: String,
    /// Every node below it too (a persistent recursive watch; ZooKeeper 3.6+).
    #[arg(short = 'R', long)]
    pub(crate) recursive: bool,
    /// Stop after this many events.
    #[arg(long)]
    pub(crate) count: Option<u64>,
}

/// `acl`.
#[derive(Debug, Subcommand)]
pub(crate) enum AclCommand {
    /// Print a node's ACL.
    Get(PathArg),
    /// Replace a node's ACL: entries `SCHEME:ID:PERMS`, PERMS from `crwda`
    /// (`world:anyone:r`, `digest:user:BASE64HASH:crwda`, `ip:10.0.0.0/8:rw`).
    Set(AclSetArgs),
}

/// `acl set`.
#[derive(Debug, Args)]
pub(crate) struct AclSetArgs {
    /// The node.
    pub(crate) path: String,
    /// The entries.
    #[arg(required = true)]
    pub(crate) acl: Vec<String>,
    /// Only if the ACL is at this version.
    #[arg(long)]
    pub(crate) version: Option<i32>,
}

/// Which server a four-letter word goes to.
#[derive(Debug, Args)]
pub(crate) struct ServerArg {
    /// `host:port`; default: the first server of `--hosts`.
    #[arg(long)]
    pub(crate) server: Option<String>,
}

/// `export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The root of the subtree.
    pub(crate) path: String,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
}

/// `import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The file `export` wrote; `-` for standard input.
    pub(crate) file: PathBuf,
    /// Create the subtree here instead of where it was exported from.
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// Overwrite the data of nodes that exist already (otherwise they are a conflict, and
    /// nothing is written).
    #[arg(long)]
    pub(crate) overwrite: bool,
}

/// How a command run under a lock, permit or leadership is stopped when that is lost.
#[derive(Debug, Clone, Args)]
pub(crate) struct ChildArgs {
    /// How long the command has after SIGTERM before SIGKILL.
    #[arg(long, default_value = "10s", value_parser = duration)]
    pub(crate) grace: Duration,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub(crate) command: Vec<String>,
}

/// Whose node names a lock uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum NamingArg {
    /// zk-recipes' own.
    Native,
    /// kazoo's `Lock`.
    Kazoo,
    /// Curator's `InterProcessMutex`.
    Curator,
}

/// `lock`.
#[derive(Debug, Args)]
pub(crate) struct LockArgs {
    /// The lock's path.
    pub(crate) path: String,
    /// Give up (exit 7) if the lock is not held within this long.
    #[arg(long, value_parser = duration)]
    pub(crate) timeout: Option<Duration>,
    /// Whose node names to use, to share the lock with kazoo or Curator programs.
    #[arg(long, value_enum, default_value = "native")]
    pub(crate) naming: NamingArg,
    /// The command, and how it is stopped.
    #[command(flatten)]
    pub(crate) child: ChildArgs,
}

/// `semaphore`.
#[derive(Debug, Args)]
pub(crate) struct SemaphoreArgs {
    /// The semaphore's path.
    pub(crate) path: String,
    /// How many permits the semaphore has (every user must agree).
    #[arg(short = 'n', long)]
    pub(crate) permits: u32,
    /// Give up (exit 7) if no permit is held within this long.
    #[arg(long, value_parser = duration)]
    pub(crate) timeout: Option<Duration>,
    /// The command, and how it is stopped.
    #[command(flatten)]
    pub(crate) child: ChildArgs,
}

/// `elect`.
#[derive(Debug, Args)]
pub(crate) struct ElectArgs {
    /// The election's path.
    pub(crate) path: String,
    /// This candidate's id, shown to observers.
    #[arg(long, required_unless_present = "observe")]
    pub(crate) id: Option<String>,
    /// Only print the leader, and each change, until interrupted.
    #[arg(long, conflicts_with = "id")]
    pub(crate) observe: bool,
    /// With `--observe`, stop after this many leader changes.
    #[arg(long, requires = "observe")]
    pub(crate) count: Option<u64>,
    /// How long the command has after SIGTERM before SIGKILL.
    #[arg(long, default_value = "10s", value_parser = duration)]
    pub(crate) grace: Duration,
    /// The command and its arguments, after `--` (not with `--observe`).
    #[arg(last = true, value_name = "CMD")]
    pub(crate) command: Vec<String>,
}

/// `queue`.
#[derive(Debug, Subcommand)]
pub(crate) enum QueueCommand {
    /// Put an item.
    Put(QueuePutArgs),
    /// Take the next item and print it (at most once: it is removed).
    Take(QueueTakeArgs),
    /// How many items wait, by state.
    Len(PathArg),
}

/// `queue put`.
#[derive(Debug, Args)]
pub(crate) struct QueuePutArgs {
    /// The queue's path.
    pub(crate) path: String,
    /// The item; `-` reads it from standard input.
    pub(crate) data: String,
    /// 0 (first) to 999; default 100.
    #[arg(long, default_value_t = 100)]
    pub(crate) priority: u16,
    /// Not to be taken before this long from now.
    #[arg(long, value_parser = duration)]
    pub(crate) delay: Option<Duration>,
}

/// `queue take`.
#[derive(Debug, Args)]
pub(crate) struct QueueTakeArgs {
    /// The queue's path.
    pub(crate) path: String,
    /// Give up (exit 7) if no item comes within this long; without it, wait.
    #[arg(long, value_parser = duration)]
    pub(crate) timeout: Option<Duration>,
}

/// `registry`.
#[derive(Debug, Subcommand)]
pub(crate) enum RegistryCommand {
    /// Register an instance and keep it registered until interrupted.
    Register(RegisterArgs),
    /// List the services, or one service's instances.
    List(RegistryListArgs),
    /// Print a service's instances, and each change, until interrupted.
    Watch(RegistryWatchArgs),
}

/// `registry register`.
#[derive(Debug, Args)]
pub(crate) struct RegisterArgs {
    /// The registry's base path.
    pub(crate) base: String,
    /// The service's name.
    pub(crate) service: String,
    /// The instance's address.
    #[arg(long)]
    pub(crate) address: String,
    /// The instance's port.
    #[arg(long)]
    pub(crate) port: Option<u16>,
    /// The instance's id (default: a new UUID).
    #[arg(long)]
    pub(crate) id: Option<String>,
}

/// `registry list`.
#[derive(Debug, Args)]
pub(crate) struct RegistryListArgs {
    /// The registry's base path.
    pub(crate) base: String,
    /// A service's name: its instances; without it, the services.
    pub(crate) service: Option<String>,
}

/// `registry watch`.
#[derive(Debug, Args)]
pub(crate) struct RegistryWatchArgs {
    /// The registry's base path.
    pub(crate) base: String,
    /// The service's name.
    pub(crate) service: String,
    /// Stop after this many changes.
    #[arg(long)]
    pub(crate) count: Option<u64>,
}

/// `config`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the value (JSON) and its version.
    Get(PathArg),
    /// Write a JSON value (checked before it is written).
    Set(ConfigSetArgs),
    /// Print the value, and each change, until interrupted.
    Watch(ConfigWatchArgs),
}

/// `config set`.
#[derive(Debug, Args)]
pub(crate) struct ConfigSetArgs {
    /// The value's node.
    pub(crate) path: String,
    /// The JSON value; `-` reads it from standard input.
    pub(crate) value: String,
    /// Only if the value is at this data version (compare-and-set).
    #[arg(long)]
    pub(crate) version: Option<i32>,
}

/// `config watch`.
#[derive(Debug, Args)]
pub(crate) struct ConfigWatchArgs {
    /// The value's node.
    pub(crate) path: String,
    /// Stop after this many changes.
    #[arg(long)]
    pub(crate) count: Option<u64>,
}

/// `completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    pub(crate) shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse() {
        assert_eq!(duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("0.5"), Ok(Duration::from_millis(500)));
        assert!(duration("soon").is_err());
        assert!(duration("-1").is_err());
    }

    #[test]
    fn a_command_needs_its_double_dash() {
        assert!(Cli::try_parse_from(["zkctl", "lock", "/l", "echo"]).is_err());
        let cli = Cli::try_parse_from(["zkctl", "lock", "/l", "--", "echo", "hi"]).unwrap();
        let Command::Lock(lock) = cli.command else {
            panic!("a lock command")
        };
        assert_eq!(lock.child.command, ["echo", "hi"]);
    }
}
