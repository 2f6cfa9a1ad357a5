//! Progress of long jobs: a spinner on a terminal, silence elsewhere (CI,
//! pipes, `--format json`).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    /// The stage under way and when it began, to log how long each took.
    current: Mutex<Option<(String, Instant)>>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let visible = !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = visible.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("a valid template"));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Progress { bar, current: Mutex::new(None) }
    }

    pub fn stage(&self, message: &str) {
        self.log_done();
        *self.current.lock().expect("not poisoned") = Some((message.to_string(), Instant::now()));
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }

    fn log_done(&self) {
        if let Some((stage, started)) = self.current.lock().expect("not poisoned").take() {
            tracing::debug!(stage, elapsed_ms = started.elapsed().as_secs_f64() * 1000.0, "stage done");
        }
    }

    pub fn finish(&self) {
        self.log_done();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A job that stops early (an error returned with `?`) clears its spinner
/// too, before the error is printed: no caller has to remember it.
impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
