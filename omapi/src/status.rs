//! ISC result codes as OMAPI carries them in a status message's `result`
//! value, with the texts ISC's clients (omshell) print for them.

use std::fmt;

/// The result class ISC's DHCP code adds to its own codes (class 6, in the
/// upper 16 bits); the libisc codes below it are plain small numbers.
const DHCP_CLASS: u32 = 6 << 16;

/// An ISC result code (`isc_result_t`), as sent in the `result` value of an
/// OMAPI status message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Status(pub u32);

impl Status {
    /// `ISC_R_SUCCESS`.
    pub const SUCCESS: Status = Status(0);
    /// `ISC_R_NOMEMORY`.
    pub const NOMEMORY: Status = Status(1);
    /// `ISC_R_NOPERM`: the message needs an authenticator it did not have.
    pub const NOPERM: Status = Status(6);
    /// `ISC_R_EXISTS`: an exclusive create found the object already there.
    pub const EXISTS: Status = Status(18);
    /// `ISC_R_NOSPACE`: a size limit of this server was reached.
    pub const NOSPACE: Status = Status(19);
    /// `ISC_R_NOTFOUND`: no object matches, or no such handle.
    pub const NOTFOUND: Status = Status(23);
    /// `ISC_R_UNEXPECTEDEND`.
    pub const UNEXPECTEDEND: Status = Status(24);
    /// `ISC_R_FAILURE`: the backend failed.
    pub const FAILURE: Status = Status(25);
    /// `ISC_R_NOTIMPLEMENTED`: an operation or object type this server does not offer.
    pub const NOTIMPLEMENTED: Status = Status(27);
    /// `ISC_R_BADBASE64`.
    pub const BADBASE64: Status = Status(31);
    /// `DHCP_R_PROTOCOLERROR`.
    pub const PROTOCOLERROR: Status = Status(DHCP_CLASS + 2);
    /// `DHCP_R_INVALIDARG`: a value of the wrong size or meaning.
    pub const INVALIDARG: Status = Status(DHCP_CLASS + 3);
    /// `DHCP_R_KEYCONFLICT`: lookup keys that name different objects.
    pub const KEYCONFLICT: Status = Status(DHCP_CLASS + 7);
    /// `DHCP_R_BADPARSE`: `statements` this server cannot parse.
    pub const BADPARSE: Status = Status(DHCP_CLASS + 8);
    /// `DHCP_R_NOKEYS`: a lookup with no key attribute at all.
    pub const NOKEYS: Status = Status(DHCP_CLASS + 9);
    /// `DHCP_R_KEY_UNKNOWN`: an authenticator names a key this server does not hold.
    pub const KEY_UNKNOWN: Status = Status(DHCP_CLASS + 10);
    /// `DHCP_R_INVALIDKEY`: a signature that does not verify.
    pub const INVALIDKEY: Status = Status(DHCP_CLASS + 11);
    /// `DHCP_R_UNKNOWNATTRIBUTE`.
    pub const UNKNOWNATTRIBUTE: Status = Status(DHCP_CLASS + 32);

    /// Whether this is `ISC_R_SUCCESS`.
    pub fn is_success(self) -> bool {
        self == Status::SUCCESS
    }

    /// The text ISC's `isc_result_totext` gives for this code, for the codes
    /// this crate sends; `None` for others.
    pub fn text(self) -> Option<&'static str> {
        Some(match self {
            Status::SUCCESS => "success",
            Status::NOMEMORY => "out of memory",
            Status::NOPERM => "permission denied",
            Status::EXISTS => "already exists",
            Status::NOSPACE => "ran out of space",
            Status::NOTFOUND => "not found",
            Status::UNEXPECTEDEND => "unexpected end of input",
            Status::FAILURE => "failure",
            Status::NOTIMPLEMENTED => "not implemented",
            Status::BADBASE64 => "bad base64 encoding",
            Status::PROTOCOLERROR => "protocol error",
            Status::INVALIDARG => "invalid argument",
            Status::KEYCONFLICT => "key conflict",
            Status::BADPARSE => "parse error",
            Status::NOKEYS => "no key specified",
            Status::KEY_UNKNOWN => "key is unknown",
            Status::INVALIDKEY => "invalid key",
            Status::UNKNOWNATTRIBUTE => "unknown attribute",
            _ => return None,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.text() {
            Some(t) => f.write_str(t),
            None => write!(f, "result {}", self.0),
        }
    }
}
