//! A job queue with `zk-queue`: jobs taken by priority and then in arrival order, a job
//! delayed until later, a batch queued all at once, a worker that dies mid-job whose job
//! another worker picks up (leases, at-least-once), and idle workers that wait their turn
//! instead of all waking for every job.
//!
//! ```text
//! cargo run --example queue
//! ```
//!
//! It runs on the in-memory fake ensemble by default. `--hosts host:port,...` (or the
//! `ZK_HOSTS` environment variable) runs it against a real ZooKeeper through the wire client:
//!
//! ```text
//! cargo run --example queue -- --hosts 127.0.0.1:2181
//! ```
//!
//! On a real server the worker's death ends its session from outside with
//! `zk_testkit::expire_session`, a test utility; in production a session expires when its
//! client is cut off for longer than the timeout.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use zk_core::Coordinator;
use zk_queue::{PutOptions, Queue, QueueError};

#[path = "support/sessions.rs"]
mod sessions;
#[path = "support/target.rs"]
mod target;

use sessions::{Backend, Result, within};

/// The root of every path the example uses.
const ROOT: &str = "/example-queue";

type Zk = Arc<dyn Coordinator>;

/// The queue as every session sees it.
fn jobs(zk: &Zk, name: &str) -> Result<Queue<Zk>> {
    Ok(Queue::new(zk.clone(), &format!("{ROOT}/{name}"))?)
}

/// An item's content as text.
fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    sessions::main_for("queue", ROOT, run).await
}

/// The whole example, on sessions of the chosen backend (in a clean [`ROOT`]).
async fn run(backend: &Backend) -> Result<()> {
    jobs_come_out_in_order(backend).await?;
    a_dead_worker_loses_no_job(backend).await?;
    idle_workers_wait_their_turn(backend).await?;
    Ok(())
}

/// Priorities first, arrival order within a priority, delayed jobs when due.
async fn jobs_come_out_in_order(backend: &Backend) -> Result<()> {
    println!("\n== jobs by priority, then in order");
    let [web, worker] = backend.sessions::<2>().await?;
    let producer = jobs(&web, "emails")?;
    producer.put(b"welcome mail to ann".to_vec()).await?;
    producer.put(b"welcome mail to bob".to_vec()).await?;
    let urgent = PutOptions::new().priority(0);
    producer
        .put_with(b"password reset for cy".to_vec(), &urgent)
        .await?;
    let later = PutOptions::new().delay(Duration::from_millis(300));
    producer
        .put_with(b"feedback survey to ann".to_vec(), &later)
        .await?;
    let batch = ["digest 1", "digest 2", "digest 3"].map(|d| d.as_bytes().to_vec());
    let names = producer
        .put_all(batch, &PutOptions::new().priority(200))
        .await?;
    println!(
        "web: queued 2 welcome mails, an urgent reset, a delayed survey and a batch of {} digests ({} ... {})",
        names.len(),
        names[0],
        names[2]
    );

    let consumer = jobs(&worker, "emails")?;
    let mut order = Vec::new();
    while let Some(job) = consumer.try_take().await? {
        println!(
            "worker: took {:?} (priority {})",
            text(job.data()),
            job.priority()
        );
        order.push(text(job.data()));
    }
    let stats = consumer.stats().await?;
    println!("worker: nothing due now; {} delayed", stats.delayed);
    let survey = within("the delayed job", consumer.take()).await??;
    println!("worker: took {:?} once it was due", text(survey.data()));
    order.push(text(survey.data()));
    let want = [
        "password reset for cy",
        "welcome mail to ann",
        "welcome mail to bob",
        "digest 1",
        "digest 2",
        "digest 3",
        "feedback survey to ann",
    ];
    if order != want {
        return Err(format!("taken in the order {order:?}, not {want:?}").into());
    }
    sessions::close_all([web, worker]).await
}

/// A worker holding a job with a lease dies; the job comes back, another worker does it and
/// acknowledges it, and the dead worker's late acknowledgement changes nothing.
async fn a_dead_worker_loses_no_job(backend: &Backend) -> Result<()> {
    println!("\n== a worker dies mid-job");
    let [web, doomed, steady] = backend.sessions::<3>().await?;
    jobs(&web, "videos")?
        .put(b"transcode cat.mp4".to_vec())
        .await?;

    let lease = jobs(&doomed, "videos")?.take_leased().await?;
    println!("worker 1: leased {:?}", text(lease.data()));
    let waiting = tokio::spawn({
        let queue = jobs(&steady, "videos")?;
        async move { queue.take_leased().await }
    });
    backend.expire(doomed.session_id()).await?;
    println!("worker 1: its session expired (a crash, a long pause)");
    let second = within("the job to come back", waiting).await???;
    println!(
        "worker 2: leased {:?}, which came back",
        text(second.data())
    );
    let done = second.ack().await?;
    println!("worker 2: done, acknowledged {}", done.name());
    // Worker 1 comes back: it learns its lease is gone, and its handle is in a new session.
    let reason = within("the loss", lease.lost()).await?;
    println!("worker 1: lease lost ({reason:?})");
    let old = lease.session_id();
    within("a new session", async {
        while doomed.session_id() == old {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await?;
    match lease.ack().await {
        Err(QueueError::LeaseLost { item }) => {
            println!("worker 1: its late acknowledgement of {item} is refused: the lease is lost")
        }
        other => return Err(format!("a lost lease acknowledged: {other:?}").into()),
    }
    if !jobs(&steady, "videos")?.is_empty().await? {
        return Err("the job is still queued".into());
    }
    sessions::close_all([web, doomed, steady]).await
}

/// Four idle workers stand in line; each job wakes only the first, who takes it and goes to
/// the back of the line.
async fn idle_workers_wait_their_turn(backend: &Backend) -> Result<()> {
    println!("\n== idle workers take turns");
    let [web, a, b, c, d] = backend.sessions::<5>().await?;
    let (tx, mut done) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = Vec::new();
    for (name, zk) in [
        ("a", a.clone()),
        ("b", b.clone()),
        ("c", c.clone()),
        ("d", d.clone()),
    ] {
        let (queue, tx) = (jobs(&zk, "thumbnails")?, tx.clone());
        workers.push(tokio::spawn(async move {
            while let Ok(job) = queue.take().await {
                if tx.send((name, text(job.data()))).is_err() {
                    return;
                }
            }
        }));
    }
    let producer = jobs(&web, "thumbnails")?;
    let line = producer.layout().line().to_owned();
    let all_waiting = || async {
        loop {
            match web.get_children(&line).await {
                Ok((names, _)) if names.len() == 4 => return,
                _ => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    };
    let mut takers = Vec::new();
    for i in 1..=6 {
        within("the workers to wait", all_waiting()).await?;
        producer.put(format!("thumbnail {i}").into_bytes()).await?;
        let (worker, job) = within("a worker", done.recv()).await?.ok_or("no worker")?;
        println!("worker {worker}: took {job:?}");
        takers.push(worker);
    }
    for worker in workers {
        worker.abort();
    }
    if takers[..4]
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len()
        != 4
    {
        return Err(format!("the line did not rotate: {takers:?}").into());
    }
    sessions::close_all([web, a, b, c, d]).await
}

sessions::example_tests!(run, ROOT);
