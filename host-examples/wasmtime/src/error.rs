//! The command's refusals: the core's kinds, plus the four that only a host
//! reading a project's files raises.
//!
//! The WIT `error-kind` enum keeps `invalid-config`, `invalid-credentials`,
//! `store-missing` and `invalid-store` (its 0.1.0 variants never change in
//! place), but the component never returns them: they belong to the project
//! reader (`project/`), so they live here, not in the core.

use std::fmt;

use tracker_publish::{ErrorKind as Core, PublishError};

/// What kind of refusal this is, for programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A kind the core (the component) raises.
    Core(Core),
    /// `.kittify/config.yaml` is unreadable or holds a refused value.
    InvalidConfig,
    /// The credentials file is unreadable or holds a refused value.
    InvalidCredentials,
    /// No tracker store at the derived path.
    StoreMissing,
    /// The tracker store is locked, corrupt or of the wrong shape.
    InvalidStore,
}

/// The wire names of the kinds only a file-reading host raises.
pub const FILE_HOST_NAMES: [&str; 4] = [
    "invalid-config",
    "invalid-credentials",
    "store-missing",
    "invalid-store",
];

impl ErrorKind {
    /// The kebab-case wire name, as the WIT spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Core(k) => k.as_str(),
            ErrorKind::InvalidConfig => FILE_HOST_NAMES[0],
            ErrorKind::InvalidCredentials => FILE_HOST_NAMES[1],
            ErrorKind::StoreMissing => FILE_HOST_NAMES[2],
            ErrorKind::InvalidStore => FILE_HOST_NAMES[3],
        }
    }
}

impl From<Core> for ErrorKind {
    fn from(k: Core) -> Self {
        ErrorKind::Core(k)
    }
}

/// So `e.kind() == tracker_publish::ErrorKind::TooLarge` reads as it means.
impl PartialEq<Core> for ErrorKind {
    fn eq(&self, other: &Core) -> bool {
        *self == ErrorKind::Core(*other)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused request or project: a kind and a message that names the field
/// or file at fault, never a token or credential value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// A refusal of `kind` with a message for people.
    pub fn new(kind: impl Into<ErrorKind>, message: impl Into<String>) -> Self {
        Error {
            kind: kind.into(),
            message: message.into(),
        }
    }

    /// What went wrong, for programs.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What went wrong and where, for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<PublishError> for Error {
    fn from(e: PublishError) -> Self {
        Error::new(e.kind(), e.message())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}
