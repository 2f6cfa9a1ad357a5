//! The scheduler of `serve`, with two `baocao serve` processes on one
//! database (PostgreSQL with `BAOCAO_TEST_DATABASE_URL`, else one SQLite
//! file): every time a job falls due exactly one of them runs it, and the
//! nightly backup keeps its number of files.

mod common;

use std::time::{Duration, Instant};

use baocao_store::jobs::JobRun;
use baocao_testkit::TestDb;
use common::Process;

/// Waits until `job` has `n` finished runs (at most half a minute).
async fn finished_runs(db: &baocao_store::Db, job: &str, n: usize) -> Vec<JobRun> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let runs: Vec<JobRun> = db.job_runs(1000).await.unwrap().into_iter().filter(|r| r.job == job).collect();
        if runs.len() >= n && runs.iter().all(|r| r.outcome != "running") {
            return runs;
        }
        assert!(Instant::now() < deadline, "{job}: {n} runs expected, found {runs:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_servers_on_one_database_run_each_job_once() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().to_str().unwrap();
    let args = ["--db", &t.url, "serve", "--listen", "127.0.0.1:0", "--backup-dir", backups, "--backup-keep", "1"];
    let servers = [Process::start(&args), Process::start(&args)];
    // Each registers the jobs as it starts its scheduler.
    let deadline = Instant::now() + Duration::from_secs(30);
    let jobs = loop {
        let jobs = t.db.jobs().await.unwrap();
        if jobs.len() == 3 || Instant::now() > deadline {
            break jobs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let names: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["backup", "cutovers", "notifications"]);
    assert_eq!(jobs[2].schedule, "hằng ngày lúc 07:00");

    for round in 1..=3 {
        t.db.run_job_now("test", "notifications").await.unwrap();
        let runs = finished_runs(&t.db, "notifications", round).await;
        assert_eq!(runs.len(), round, "one run each time it falls due: {runs:#?}");
        assert!(runs.iter().all(|r| r.outcome == "succeeded"), "{runs:#?}");
    }
    for round in 1..=2 {
        t.db.run_job_now("test", "backup").await.unwrap();
        let runs = finished_runs(&t.db, "backup", round).await;
        assert_eq!(runs.len(), round, "{runs:#?}");
        assert_eq!(runs[0].outcome, "succeeded", "{runs:#?}");
        assert!(runs[0].detail.as_deref().unwrap_or_default().starts_with("Đã sao lưu vào"), "{runs:#?}");
    }
    // Each process counts the runs it made: three of the notifications
    // between them. `/metrics` also shows the pool and the report queue.
    let mut counted = 0.0;
    for server in &servers {
        let text = reqwest::get(format!("{}/metrics", server.base)).await.unwrap().text().await.unwrap();
        assert!(text.contains("baocao_db_pool_connections{state=\"idle\"}"), "{text}");
        assert!(text.contains("baocao_report_queue_waiting 0"), "{text}");
        counted += text
            .lines()
            .find(|l| l.starts_with("baocao_job_runs_total{job=\"notifications\",outcome=\"succeeded\"}"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    assert_eq!(counted, 3.0);
    let kept: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).collect();
    assert_eq!(kept.len(), 1, "one backup kept: {kept:?}");

    // Several rounds of both servers looking later, nothing more has run.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let runs = t.db.job_runs(1000).await.unwrap();
    assert_eq!(runs.len(), 5, "{runs:#?}");
    // Each job's next run is back on its schedule.
    for job in t.db.jobs().await.unwrap() {
        assert!(job.next_run_at > chrono::Utc::now(), "{job:?}");
    }
    drop(servers);
}
