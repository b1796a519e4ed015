//! One error type: a kind for programs, a message for people.

use core::fmt;

/// What kind of refusal this is (contract section 7).
///
/// The kebab-case names from [`ErrorKind::as_str`] are the wire names every
/// host prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Provider or workspace blank.
    NotConfigured,
    /// Server URL not http(s), without a host, or with user-info.
    InvalidServerUrl,
    /// The resolved token has a character outside U+0021-U+007E.
    InvalidAuthToken,
    /// The input is not well-formed.
    InvalidInput,
    /// The input exceeds a documented limit.
    TooLarge,
    /// The project config is unreadable or holds a refused value.
    InvalidConfig,
    /// The credentials file is unreadable or holds a refused value.
    InvalidCredentials,
    /// No tracker store at the derived path.
    StoreMissing,
    /// The tracker store is locked, corrupt or of the wrong shape.
    InvalidStore,
    /// One stored issue cannot be published faithfully.
    InvalidStoreRow,
}

impl ErrorKind {
    /// Every kind, in contract order.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::NotConfigured,
        ErrorKind::InvalidServerUrl,
        ErrorKind::InvalidAuthToken,
        ErrorKind::InvalidInput,
        ErrorKind::TooLarge,
        ErrorKind::InvalidConfig,
        ErrorKind::InvalidCredentials,
        ErrorKind::StoreMissing,
        ErrorKind::InvalidStore,
        ErrorKind::InvalidStoreRow,
    ];

    /// The kebab-case wire name, e.g. `invalid-server-url`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotConfigured => "not-configured",
            ErrorKind::InvalidServerUrl => "invalid-server-url",
            ErrorKind::InvalidAuthToken => "invalid-auth-token",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::InvalidConfig => "invalid-config",
            ErrorKind::InvalidCredentials => "invalid-credentials",
            ErrorKind::StoreMissing => "store-missing",
            ErrorKind::InvalidStore => "invalid-store",
            ErrorKind::InvalidStoreRow => "invalid-store-row",
        }
    }

    /// The kind with this wire name.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused request.
///
/// The message names the field at fault and never holds a token or a
/// credential value: every constructor in this crate builds it from field
/// names and fixed text only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishError {
    kind: ErrorKind,
    message: String,
}

impl PublishError {
    /// A refusal of `kind` with a message for people.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PublishError {
            kind,
            message: message.into(),
        }
    }

    /// `invalid-input` at a field path: `"{path}: {what}"`.
    pub(crate) fn invalid_input(path: &str, what: impl fmt::Display) -> Self {
        let path = if path.is_empty() { "input" } else { path };
        PublishError::new(ErrorKind::InvalidInput, format!("{path}: {what}"))
    }

    /// What kind of refusal this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for PublishError {}
