//! Dropping root at start, as ISC dhcpd does with `-user` and `-group`.
//!
//! The daemon is started as root by MAAS's unit (`dhcpd -user dhcpd -group
//! dhcpd …`). Before any socket is opened it hands the files it will write
//! (the store directory, the lease file, OMAPI's key file) to the target
//! user, keeps only the two capabilities DHCP needs across the change of
//! user, and becomes that user and group with no supplementary groups:
//!
//! * `CAP_NET_BIND_SERVICE`: ports 67 and 647;
//! * `CAP_NET_RAW`: `SO_BINDTODEVICE` and the `AF_PACKET` socket that sends
//!   replies to clients without an address (see [`crate::net::l2`]).
//!
//! Sockets are opened after the drop, so a socket that is re-opened later
//! (an interface that was recreated) works the same way; every other
//! capability, and root's file access, is gone for the life of the process.

use std::path::Path;

use caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{Gid, Group, Uid, User};

/// The capabilities kept after the drop.
pub const KEPT: [Capability; 2] = [Capability::CAP_NET_BIND_SERVICE, Capability::CAP_NET_RAW];

/// Why privileges could not be dropped.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// No such user in the password database.
    #[error("no user named {0:?}")]
    NoUser(String),
    /// No such group in the group database.
    #[error("no group named {0:?}")]
    NoGroup(String),
    /// A name with a NUL byte.
    #[error("bad name {0:?}")]
    BadName(String),
    /// Looking up a user or group failed.
    #[error("looking up {what}: {source}")]
    Lookup {
        /// The user or group.
        what: String,
        /// The cause.
        source: nix::Error,
    },
    /// Changing owner of a file failed.
    #[error("chown {path}: {source}")]
    Chown {
        /// The file.
        path: String,
        /// The cause.
        source: nix::Error,
    },
    /// A system call of the drop failed.
    #[error("{call}: {source}")]
    Sys {
        /// The call.
        call: &'static str,
        /// The cause.
        source: nix::Error,
    },
    /// Setting the capability sets failed.
    #[error("setting capabilities: {0}")]
    Caps(#[from] caps::errors::CapsError),
}

/// Whom to become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The user's id.
    pub uid: Uid,
    /// The group's id.
    pub gid: Gid,
    /// The user's name (empty when only a group was given), for messages.
    pub user: String,
}

impl Target {
    /// Resolves ISC's `-user` / `-group`: a user alone takes its primary
    /// group; a group alone keeps the current user (ISC does the same).
    pub fn resolve(user: Option<&str>, group: Option<&str>) -> Result<Self, PrivilegeError> {
        let lookup_err = |what: &str| {
            let what = what.to_owned();
            move |source| PrivilegeError::Lookup { what, source }
        };
        let u = match user {
            Some(name) => Some(
                User::from_name(name)
                    .map_err(lookup_err(name))?
                    .ok_or_else(|| PrivilegeError::NoUser(name.to_owned()))?,
            ),
            None => None,
        };
        let gid = match group {
            Some(name) => {
                Group::from_name(name)
                    .map_err(lookup_err(name))?
                    .ok_or_else(|| PrivilegeError::NoGroup(name.to_owned()))?
                    .gid
            }
            None => u.as_ref().map_or_else(Gid::current, |u| u.gid),
        };
        let (uid, name) = match u {
            Some(u) => (u.uid, u.name),
            None => (Uid::current(), String::new()),
        };
        if name.contains('\0') {
            return Err(PrivilegeError::BadName(name));
        }
        Ok(Self {
            uid,
            gid,
            user: name,
        })
    }

    /// Whether this changes anything for the current process.
    pub fn is_change(&self) -> bool {
        self.uid != Uid::effective() || self.gid != Gid::effective()
    }
}

/// Gives `path` (a file, or a directory and everything below it) to
/// `target`, so that the dropped process can still write it. Symbolic links
/// are not followed.
pub fn hand_over(path: &Path, target: &Target) -> Result<(), PrivilegeError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(_) => return Ok(()), // created later by the dropped process
    };
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    nix::unistd::chown(path, Some(target.uid), Some(target.gid)).map_err(|source| {
        PrivilegeError::Chown {
            path: path.display().to_string(),
            source,
        }
    })?;
    if meta.is_dir()
        && let Ok(entries) = std::fs::read_dir(path)
    {
        for e in entries.flatten() {
            hand_over(&e.path(), target)?;
        }
    }
    Ok(())
}

/// Becomes `target`, keeping [`KEPT`] as the only capabilities (permitted
/// and effective; none inheritable or ambient). Must run before any thread
/// is started.
pub fn drop_to(target: &Target) -> Result<(), PrivilegeError> {
    let sys = |call| move |source| PrivilegeError::Sys { call, source };
    // Keep the permitted set across setuid; trimmed right after.
    nix::sys::prctl::set_keepcaps(true).map_err(sys("prctl(PR_SET_KEEPCAPS)"))?;
    nix::unistd::setgroups(&[target.gid]).map_err(sys("setgroups"))?;
    nix::unistd::setgid(target.gid).map_err(sys("setgid"))?;
    nix::unistd::setuid(target.uid).map_err(sys("setuid"))?;
    nix::sys::prctl::set_keepcaps(false).map_err(sys("prctl(PR_SET_KEEPCAPS)"))?;
    // The kernel cleared the effective set at setuid; narrow the permitted
    // set to what is kept, then raise exactly that.
    let kept: CapsHashSet = KEPT.into_iter().collect();
    caps::set(None, CapSet::Permitted, &kept)?;
    caps::set(None, CapSet::Effective, &kept)?;
    caps::set(None, CapSet::Inheritable, &CapsHashSet::new())?;
    caps::clear(None, CapSet::Ambient)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_root_and_refuses_unknown_names() {
        let t = Target::resolve(Some("root"), None).unwrap();
        assert_eq!(t.uid, Uid::from_raw(0));
        assert_eq!(t.gid, Gid::from_raw(0));
        assert!(matches!(
            Target::resolve(Some("no-such-user-here"), None),
            Err(PrivilegeError::NoUser(_))
        ));
        assert!(matches!(
            Target::resolve(None, Some("no-such-group-here")),
            Err(PrivilegeError::NoGroup(_))
        ));
    }

    #[test]
    fn a_group_alone_keeps_the_user() {
        let t = Target::resolve(None, Some("root")).unwrap();
        assert_eq!(t.uid, Uid::current());
        assert_eq!(t.gid, Gid::from_raw(0));
    }
}
