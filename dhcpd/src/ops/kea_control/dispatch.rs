//! How a command finds its handler: by name in [`COMMANDS`], refused as
//! unsupported when its hook library is not loaded (as Kea does).

use super::context::{After, COMMANDS, Group, KeaContext};
use super::wire::{Answer, Command};
use super::{daemon, ha, leases, reservations};

/// Answers one command.
pub async fn answer(ctx: &KeaContext, cmd: Command) -> (Answer, After) {
    let Some(&(name, group)) = COMMANDS.iter().find(|(n, _)| *n == cmd.name) else {
        return (Answer::unsupported(&cmd.name), After::Continue);
    };
    if let Some(lib) = group.library()
        && !ctx.has_hook(lib)
    {
        return (Answer::unsupported(name), After::Continue);
    }
    let args = cmd.arguments.as_ref();
    let answer = match group {
        Group::Daemon => return daemon::answer(ctx, name, args).await,
        Group::Leases => leases::answer(ctx, name, args).await,
        Group::Reservations => reservations::answer(ctx, name, args).await,
        Group::Ha => ha::answer(ctx, name, args),
    };
    tracing::debug!(
        command = name,
        result = answer.result,
        "Kea command answered"
    );
    (answer, After::Continue)
}
