use std::fmt;

/// Errors of the tools. Every message is one line and names the file involved.
#[derive(Debug)]
pub enum Error {
    /// Bad command line or parameter (exit code 2).
    Usage(String),
    /// Bad input file: foreign, truncated, mismatched (exit code 3).
    Input(String),
    /// Operating-system I/O failure (exit code 4).
    Io(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Input(_) => 3,
            Error::Io(_) => 4,
        }
    }
    pub fn io(path: &std::path::Path, what: &str, e: std::io::Error) -> Error {
        Error::Io(format!("{}: {what}: {e}", path.display()))
    }
    pub fn input(path: &std::path::Path, msg: impl fmt::Display) -> Error {
        Error::Input(format!("{}: {msg}", path.display()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => write!(f, "usage error: {m}"),
            Error::Input(m) => write!(f, "bad input: {m}"),
            Error::Io(m) => write!(f, "i/o error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
