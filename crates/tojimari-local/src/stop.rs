//! `tojimari local --port N --stop`: what to do about the holders of a port, decided from the inventory alone.
//!
//! [`plan_stop`] turns a [`Holding`] into a [`StopPlan`]: nothing to do (nobody holds the port), a refusal
//! (with every reason), or the actions that free it. It touches nothing; [`crate::stopping`] carries a plan
//! out and [`crate::termination`] times the signals.
//!
//! Rules, in order:
//! - A socket with no visible owner refuses the whole stop: the port would stay open whatever else is stopped.
//!   As root that is a kernel socket (NFS, a kernel service) or an owner in another PID namespace; without root,
//!   an owner root could see.
//! - pid 1 is never stopped (it is the init process; stopping it stops the machine or the container), nor a
//!   kernel thread (a child of kthreadd, pid 2). systemd holding a port is socket activation: the `.socket`
//!   unit is what to stop, and the refusal says so.
//! - A process in a systemd service is stopped through systemd (`systemctl stop UNIT`): killing it would only
//!   get it restarted. A user unit goes through that user's manager.
//! - Any other process tree gets SIGTERM, then SIGKILL after the grace period; forked children sharing the
//!   socket go with their parent. Every process is pinned by its start time, so a reused pid is never hit.

use std::fmt;
use std::net::SocketAddr;

use tojimari_core::Protocol;

use crate::holder::{HIDDEN_OWNER_AS_ROOT, Holding, StopStep};
use crate::inventory::Privilege;
use crate::process::{Manager, ProcessInfo, Unit};

/// One process, named for good: the pid and its start time (clock ticks after boot).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pinned {
    pub pid: u32,
    pub start_time: u64,
}

impl Pinned {
    pub fn of(process: &ProcessInfo) -> Pinned {
        Pinned { pid: process.pid, start_time: process.start_time }
    }
}

/// One thing to do to free the port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopAction {
    /// Stop a systemd service: run `argv` (`systemctl stop UNIT`, or through a user's manager).
    Unit {
        unit: Unit,
        argv: Vec<String>,
        /// The unit's processes holding the port, by pid.
        processes: Vec<Pinned>,
        /// The topmost of them (not forked from another), with their names: what the question names.
        leaders: Vec<(u32, String)>,
    },
    /// SIGTERM `root`, then SIGKILL whatever of `root` and `followers` is left after the grace period.
    Signal {
        /// The short name of the root process.
        name: String,
        root: Pinned,
        /// Its descendants that share the socket (forked workers), by pid.
        followers: Vec<Pinned>,
    },
}

impl StopAction {
    /// The clause of the confirmation question: `nginx (pid 1234, unit nginx.service)`,
    /// `nginx (pid 1234 and its children 1235, 1236)`.
    pub fn describe(&self) -> String {
        match self {
            StopAction::Unit { unit, leaders, .. } => {
                let name = leaders.first().map_or_else(|| unit.name.clone(), |(_, name)| name.clone());
                let pids: Vec<String> = leaders.iter().map(|(pid, _)| pid.to_string()).collect();
                let pid_word = if pids.len() == 1 { "pid" } else { "pids" };
                let kind = if unit.manager == Manager::User { "user unit" } else { "unit" };
                format!("{name} ({pid_word} {}, {kind} {})", pids.join(", "), unit.name)
            }
            StopAction::Signal { name, root, followers } if followers.is_empty() => {
                format!("{name} (pid {})", root.pid)
            }
            StopAction::Signal { name, root, followers } => {
                let pids: Vec<String> = followers.iter().map(|pinned| pinned.pid.to_string()).collect();
                let children = if followers.len() == 1 { "child" } else { "children" };
                format!("{name} (pid {} and its {children} {})", root.pid, pids.join(", "))
            }
        }
    }

    /// Every process this action should end.
    pub fn processes(&self) -> Vec<Pinned> {
        match self {
            StopAction::Unit { processes, .. } => processes.clone(),
            StopAction::Signal { root, followers, .. } => {
                std::iter::once(*root).chain(followers.iter().copied()).collect()
            }
        }
    }
}

/// Why a port's holders will not be stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// pid 1 (the init process) holds the socket.
    Init { name: String },
    /// A kernel thread holds the socket.
    KernelThread { pid: u32, name: String },
    /// No visible process holds this socket.
    HiddenOwner { proto: Protocol, endpoint: SocketAddr, socket_uid: u32, privilege: Privilege },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Init { name } => {
                write!(f, "pid 1 ({name}) holds the port, and tojimari never stops pid 1 (the init process)")
            }
            Refusal::KernelThread { pid, name } => {
                write!(f, "pid {pid} ({name}) is a kernel thread, which cannot be stopped from user space")
            }
            Refusal::HiddenOwner { proto, endpoint, privilege: Privilege::Root, .. } => {
                write!(f, "no process visible from here holds {proto} {endpoint}: {HIDDEN_OWNER_AS_ROOT}")
            }
            Refusal::HiddenOwner { proto, endpoint, socket_uid, privilege: Privilege::Unprivileged } => write!(
                f,
                "the owner of {proto} {endpoint} is not visible to this user (the socket was created by uid \
                 {socket_uid})"
            ),
        }
    }
}

impl Refusal {
    /// What the user can do instead.
    pub fn hint(&self) -> &'static str {
        match self {
            Refusal::Init { .. } => {
                "if systemd holds it for socket activation, stop the .socket unit (`systemctl list-sockets` names \
                 it); otherwise stop the service inside pid 1 by its own means"
            }
            Refusal::KernelThread { .. } => "stop the kernel service that opened it (e.g. nfs-server, rpc.statd)",
            Refusal::HiddenOwner { privilege: Privilege::Root, .. } => {
                "stop it where its owner is visible (the host or the container that runs it), or through the \
                 kernel service that opened it"
            }
            Refusal::HiddenOwner { privilege: Privilege::Unprivileged, .. } => "run as root to see and stop it",
        }
    }
}

/// What `--stop` will do about a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopPlan {
    /// Nobody holds the port: it is closed already.
    Nobody,
    /// Some holder must not or cannot be stopped; nothing is done. Every reason, in socket order.
    Refused(Vec<Refusal>),
    /// Units first (by name), then process trees (by pid).
    Act(Vec<StopAction>),
}

impl StopPlan {
    /// The confirmation question: `Stop nginx (pid 1234, unit nginx.service)? [y/N] `. `None` unless there is
    /// something to do.
    pub fn question(&self) -> Option<String> {
        let StopPlan::Act(actions) = self else { return None };
        let clauses: Vec<String> = actions.iter().map(StopAction::describe).collect();
        let joined = match clauses.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => return None,
        };
        Some(format!("Stop {joined}? [y/N] "))
    }

    /// Every process the plan should end, sorted.
    pub fn processes(&self) -> Vec<Pinned> {
        let StopPlan::Act(actions) = self else { return Vec::new() };
        let mut all: Vec<Pinned> = actions.iter().flat_map(StopAction::processes).collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// Decides what to do about the holders of a port. `privilege` is ours; `own_uid` our effective uid (to run a
/// user unit's `systemctl --user` through the right manager).
pub fn plan_stop(holding: &Holding<'_>, own_uid: u32) -> StopPlan {
    if holding.is_empty() {
        return StopPlan::Nobody;
    }
    let mut refusals = Vec::new();
    for socket in &holding.sockets {
        if socket.processes.is_empty() {
            refusals.push(Refusal::HiddenOwner {
                proto: socket.proto,
                endpoint: socket.endpoint(),
                socket_uid: socket.socket_uid,
                privilege: holding.privilege,
            });
        }
    }
    let processes = holding.processes();
    for process in &processes {
        if process.pid == 1 {
            refusals.push(Refusal::Init { name: process.name.clone() });
        } else if is_kernel_thread(process) {
            refusals.push(Refusal::KernelThread { pid: process.pid, name: process.name.clone() });
        }
    }
    if !refusals.is_empty() {
        return StopPlan::Refused(refusals);
    }
    let by_pid = |pid: u32| processes.iter().find(|process| process.pid == pid).copied();
    let actions = holding
        .stop_steps()
        .into_iter()
        .filter_map(|step| match step {
            StopStep::Unit(unit) => {
                let members: Vec<&ProcessInfo> =
                    processes.iter().copied().filter(|process| process.unit.as_ref() == Some(&unit)).collect();
                let argv = systemctl_stop(&unit, members.first().copied(), own_uid);
                let is_member = |pid: u32| members.iter().any(|process| process.pid == pid);
                let leaders = members
                    .iter()
                    .filter(|process| !is_member(process.ppid))
                    .map(|process| (process.pid, process.name.clone()))
                    .collect();
                let processes = members.iter().map(|process| Pinned::of(process)).collect();
                Some(StopAction::Unit { unit, argv, processes, leaders })
            }
            StopStep::Kill { pid, name, followers } => {
                let root = Pinned::of(by_pid(pid)?);
                let followers = followers.into_iter().filter_map(by_pid).map(Pinned::of).collect();
                Some(StopAction::Signal { name, root, followers })
            }
        })
        .collect();
    StopPlan::Act(actions)
}

/// A kernel thread: a child of kthreadd (pid 2), or kthreadd itself, with no command line.
fn is_kernel_thread(process: &ProcessInfo) -> bool {
    (process.pid == 2 || process.ppid == 2) && process.cmdline.is_empty()
}

/// `systemctl stop UNIT`; for a user unit `systemctl --user stop UNIT`, through the owner's manager
/// (`--machine USER@`) when we are not that user.
fn systemctl_stop(unit: &Unit, member: Option<&ProcessInfo>, own_uid: u32) -> Vec<String> {
    let mut argv = vec!["systemctl".to_owned()];
    if unit.manager == Manager::User {
        argv.push("--user".to_owned());
        if let Some(owner) = member.filter(|process| process.uid != own_uid) {
            argv.push("--machine".to_owned());
            argv.push(format!("{}@", owner.user));
        }
    }
    argv.push("stop".to_owned());
    argv.push(unit.name.clone());
    argv
}

/// `systemctl disable UNIT` (same manager as the stop): what keeps a stopped service off after a reboot.
pub fn disable_command(argv: &[String]) -> String {
    let mut words: Vec<&str> = argv.iter().map(String::as_str).collect();
    if let Some(verb) = words.iter_mut().find(|word| **word == "stop") {
        *verb = "disable";
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holder::who_holds;
    use crate::inventory::tests::{process, record, sample};
    use crate::inventory::{Inventory, ProcessSockets};

    fn inventory(holders: Vec<(ProcessInfo, Vec<u64>)>, privilege: Privilege) -> Inventory {
        let holders: Vec<ProcessSockets> =
            holders.into_iter().map(|(process, inodes)| ProcessSockets { process, inodes }).collect();
        Inventory::assemble(
            vec![record(Protocol::Tcp, "0.0.0.0", 8080, 1), record(Protocol::Tcp, "::", 8080, 2)],
            &holders,
            privilege,
            0,
        )
    }

    fn unit(name: &str, manager: Manager) -> Option<Unit> {
        Some(Unit { name: name.into(), manager })
    }

    #[test]
    fn nobody_holding_is_nothing_to_do() {
        let inventory = sample(Privilege::Root);
        let plan = plan_stop(&who_holds(&inventory, 81, None), 0);
        assert_eq!(plan, StopPlan::Nobody);
        assert_eq!(plan.question(), None);
        assert!(plan.processes().is_empty());
    }

    #[test]
    fn forked_workers_go_with_their_parent() {
        let inventory = sample(Privilege::Root);
        let plan = plan_stop(&who_holds(&inventory, 80, None), 0);
        let pin = |pid: u32| Pinned { pid, start_time: u64::from(pid) * 10 };
        assert_eq!(
            plan,
            StopPlan::Act(vec![StopAction::Signal {
                name: "nginx".into(),
                root: pin(100),
                followers: vec![pin(101), pin(102)]
            }])
        );
        assert_eq!(plan.question().unwrap(), "Stop nginx (pid 100 and its children 101, 102)? [y/N] ");
        assert_eq!(plan.processes(), [pin(100), pin(101), pin(102)]);
        let redis = plan_stop(&who_holds(&inventory, 6379, Some(Protocol::Tcp)), 0);
        assert_eq!(redis.question().unwrap(), "Stop redis-server (pid 200)? [y/N] ");
    }

    #[test]
    fn a_service_is_stopped_through_systemd() {
        let mut master = process(1234, 1, "nginx");
        master.unit = unit("nginx.service", Manager::System);
        let mut worker = process(1235, 1234, "nginx");
        worker.unit = master.unit.clone();
        let inventory = inventory(vec![(master, vec![1, 2]), (worker, vec![1, 2])], Privilege::Root);
        let plan = plan_stop(&who_holds(&inventory, 8080, Some(Protocol::Tcp)), 0);
        let StopPlan::Act(actions) = &plan else { panic!("{plan:?}") };
        assert_eq!(actions.len(), 1, "{actions:?}");
        let StopAction::Unit { argv, .. } = &actions[0] else { panic!("{actions:?}") };
        assert_eq!(argv, &["systemctl", "stop", "nginx.service"]);
        assert_eq!(disable_command(argv), "systemctl disable nginx.service");
        // The master is named; its worker goes with the unit.
        assert_eq!(plan.question().unwrap(), "Stop nginx (pid 1234, unit nginx.service)? [y/N] ");
        assert_eq!(plan.processes().len(), 2);
    }

    #[test]
    fn a_user_unit_goes_through_its_owners_manager() {
        let mut app = process(900, 880, "syncthing");
        app.unit = unit("syncthing.service", Manager::User);
        app.uid = 1000;
        app.user = "alice".into();
        let inventory = inventory(vec![(app, vec![1, 2])], Privilege::Root);
        let holding = who_holds(&inventory, 8080, None);
        let StopPlan::Act(actions) = plan_stop(&holding, 0) else { panic!() };
        let StopAction::Unit { argv, .. } = &actions[0] else { panic!("{actions:?}") };
        assert_eq!(argv, &["systemctl", "--user", "--machine", "alice@", "stop", "syncthing.service"]);
        assert_eq!(disable_command(argv), "systemctl --user --machine alice@ disable syncthing.service");
        assert_eq!(
            plan_stop(&holding, 0).question().unwrap(),
            "Stop syncthing (pid 900, user unit syncthing.service)? [y/N] "
        );
        // Alice herself needs no --machine.
        let StopPlan::Act(actions) = plan_stop(&holding, 1000) else { panic!() };
        let StopAction::Unit { argv, .. } = &actions[0] else { panic!("{actions:?}") };
        assert_eq!(argv, &["systemctl", "--user", "stop", "syncthing.service"]);
    }

    #[test]
    fn units_then_loose_processes_in_one_question() {
        let mut master = process(700, 1, "nginx");
        master.unit = unit("nginx.service", Manager::System);
        let stray = process(950, 940, "socat");
        let inventory = inventory(vec![(master, vec![1]), (stray, vec![2])], Privilege::Root);
        let plan = plan_stop(&who_holds(&inventory, 8080, None), 0);
        assert_eq!(plan.question().unwrap(), "Stop nginx (pid 700, unit nginx.service) and socat (pid 950)? [y/N] ");
        let StopPlan::Act(actions) = plan else { panic!() };
        assert!(matches!(actions[0], StopAction::Unit { .. }));
        assert!(matches!(actions[1], StopAction::Signal { root: Pinned { pid: 950, .. }, .. }));
    }

    #[test]
    fn pid_1_is_refused() {
        let init = process(1, 0, "systemd");
        let mut service = process(420, 1, "sshd");
        service.unit = unit("ssh.service", Manager::System);
        let inventory = inventory(vec![(init, vec![1, 2]), (service, vec![1, 2])], Privilege::Root);
        let plan = plan_stop(&who_holds(&inventory, 8080, None), 0);
        let StopPlan::Refused(refusals) = &plan else { panic!("{plan:?}") };
        assert_eq!(refusals, &[Refusal::Init { name: "systemd".into() }]);
        assert_eq!(
            refusals[0].to_string(),
            "pid 1 (systemd) holds the port, and tojimari never stops pid 1 (the init process)"
        );
        assert!(refusals[0].hint().contains(".socket unit"));
        assert_eq!(plan.question(), None);
        assert!(plan.processes().is_empty(), "a refused plan ends nothing");
    }

    #[test]
    fn a_kernel_thread_is_refused() {
        let mut thread = process(57, 2, "kworker/0:1");
        thread.cmdline.clear();
        let inventory = inventory(vec![(thread, vec![1, 2])], Privilege::Root);
        let StopPlan::Refused(refusals) = plan_stop(&who_holds(&inventory, 8080, None), 0) else { panic!() };
        assert_eq!(refusals, [Refusal::KernelThread { pid: 57, name: "kworker/0:1".into() }]);
        // A process that a kernel thread spawned but that runs a program (a usermode helper) is not one.
        let mut helper = process(58, 2, "modprobe");
        helper.cmdline = "/sbin/modprobe x".into();
        let inventory = self::inventory(vec![(helper, vec![1, 2])], Privilege::Root);
        assert!(matches!(plan_stop(&who_holds(&inventory, 8080, None), 0), StopPlan::Act(_)));
    }

    #[test]
    fn a_hidden_owner_refuses_everything_as_root_without_saying_run_as_root() {
        // One socket has a visible owner, the other none: stopping the visible one would not close the port.
        let inventory = inventory(vec![(process(950, 940, "socat"), vec![1])], Privilege::Root);
        let plan = plan_stop(&who_holds(&inventory, 8080, None), 0);
        let StopPlan::Refused(refusals) = &plan else { panic!("{plan:?}") };
        assert_eq!(refusals.len(), 1);
        let message = refusals[0].to_string();
        assert!(message.starts_with("no process visible from here holds tcp [::]:8080: "), "{message}");
        assert!(message.contains("another PID namespace"), "{message}");
        assert!(!message.contains("run as root") && !refusals[0].hint().contains("run as root"), "{message}");
    }

    #[test]
    fn a_hidden_owner_without_root_says_run_as_root() {
        let inventory = inventory(vec![], Privilege::Unprivileged);
        let StopPlan::Refused(refusals) = plan_stop(&who_holds(&inventory, 8080, None), 1000) else { panic!() };
        assert_eq!(refusals.len(), 2);
        assert_eq!(
            refusals[0].to_string(),
            "the owner of tcp 0.0.0.0:8080 is not visible to this user (the socket was created by uid 0)"
        );
        assert_eq!(refusals[0].hint(), "run as root to see and stop it");
    }
}
