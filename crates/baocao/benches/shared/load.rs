//! Helpers of the benchmarks that time pages of a running `baocao serve`
//! (`pages`, `national`): included by each with `#[path]`, so each bench
//! uses all of it.

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A `baocao serve` started by the bench, killed when dropped.
pub struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

impl Server {
    /// Starts baocao with `args` (ending with `serve` and its options) on a
    /// free port of loopback, in `dir`; the server, its address (no
    /// trailing slash) and its process id.
    pub fn start(args: &[&str], dir: &Path) -> (Server, String, u32) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_baocao"))
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .env("CI", "1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let pid = child.id();
        let server = Server(child);
        let mut lines = std::io::BufReader::new(stdout).lines();
        let base = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.split("serving on ").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_string))
            .expect("the server prints its URL")
            .trim_end_matches('/')
            .to_string();
        // The server goes on printing (the demo its accounts, feed and
        // national instance): read to the end, or a closed pipe would stop it.
        std::thread::spawn(move || lines.for_each(drop));
        (server, base, pid)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Signs in through the page; the session cookie.
pub async fn sign_in(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let res = client
        .post(format!("{base}/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303, "sign-in of {username}");
    res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
}

/// The time of one page, its body read to the end; it must answer 200.
pub async fn timed_get(client: &reqwest::Client, url: &str, cookie: &str) -> Duration {
    let t = Instant::now();
    let res = client.get(url).header("cookie", cookie).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "{url}");
    res.bytes().await.unwrap();
    t.elapsed()
}

/// Clients at once, each signed in with `cookie` and sending `each`
/// measured requests.
pub struct Load<'a> {
    pub client: &'a reqwest::Client,
    pub cookie: &'a str,
    pub clients: usize,
    pub each: usize,
}

impl Load<'_> {
    /// Every client's times, after `warm` unmeasured requests each; `url`
    /// gives the address of client `c`'s request `i`.
    pub async fn run(
        &self,
        warm: usize,
        url: impl Fn(usize, usize) -> String + Clone + Send + 'static,
    ) -> Vec<Duration> {
        let tasks: Vec<_> = (0..self.clients)
            .map(|c| {
                let (client, cookie, url, each) =
                    (self.client.clone(), self.cookie.to_string(), url.clone(), self.each);
                tokio::spawn(async move {
                    let mut times = Vec::with_capacity(each);
                    for i in 0..each + warm {
                        let took = timed_get(&client, &url(c, i), &cookie).await;
                        if i >= warm {
                            times.push(took);
                        }
                    }
                    times
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.extend(task.await.unwrap());
        }
        times
    }
}

/// One line: a page's p50, p95, p99 and slowest.
pub fn print_times(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!(
        "{label:<36} {:>9} {:>9} {:>9} {:>9}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap())
    );
}
