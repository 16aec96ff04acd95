//! The service's log: one line per event on the writer it is given (stderr), as text or JSON.
//! Callers pass only what leakgate made or checked (alert names, client ids, outcomes,
//! statuses); no secret, token or payload text is ever a field.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `2026-01-01T00:00:00Z info message key=value ...`
    Text,
    /// `{"time": ..., "level": ..., "msg": ..., "key": "value"}`
    Json,
}

/// A line's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

impl LogLevel {
    fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// A shared, line-at-a-time logger.
#[derive(Clone)]
pub struct Logger {
    format: LogFormat,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl Logger {
    /// Log to `out` in `format`.
    pub fn new(format: LogFormat, out: Box<dyn Write + Send>) -> Self {
        Logger {
            format,
            out: Arc::new(Mutex::new(out)),
        }
    }

    /// Write one line.
    pub fn log(&self, level: LogLevel, msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
        let time = crate::verify::audit::now_rfc3339();
        let line = match self.format {
            LogFormat::Json => {
                let mut o = serde_json::Map::new();
                o.insert("time".into(), time.into());
                o.insert("level".into(), level.as_str().into());
                o.insert("msg".into(), msg.into());
                for (k, v) in fields {
                    o.insert((*k).to_string(), v.to_string().into());
                }
                serde_json::Value::Object(o).to_string()
            }
            LogFormat::Text => {
                let mut s = format!("{time} {} {msg}", level.as_str());
                for (k, v) in fields {
                    let v = v.to_string();
                    if v.is_empty() || v.contains(char::is_whitespace) || v.contains('"') {
                        s.push_str(&format!(" {k}={v:?}"));
                    } else {
                        s.push_str(&format!(" {k}={v}"));
                    }
                }
                s
            }
        };
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    pub fn info(&self, msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
        self.log(LogLevel::Info, msg, fields);
    }

    pub fn warn(&self, msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
        self.log(LogLevel::Warn, msg, fields);
    }

    pub fn error(&self, msg: &str, fields: &[(&str, &dyn std::fmt::Display)]) {
        self.log(LogLevel::Error, msg, fields);
    }
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Logger({:?})", self.format)
    }
}
