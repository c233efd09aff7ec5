//! Archive packages (电子文件归档): one document's metadata, its full event chain, the
//! hashes needed to check fixity without this program, and a manifest.
//!
//! A package is a directory:
//!
//! | file | content |
//! |---|---|
//! | `manifest.json` | format, ids, numbers, counts, fixity digests, SHA-256 of every other file |
//! | `document.json` | the document's state (the fold of `events.jsonl`) |
//! | `events.jsonl` | every envelope of the document's stream, one JSON object per line, as stored |
//! | `VERIFY.txt` | how to check the package by hand or with any SHA-256 tool |
//! | `files/NN-<name>` | the document's own files (正文, attachments) as kept, digests in the manifest |
//! | `eep.xml` | the record in the shape of DA/T 48's 电子文件封装包 (see [`crate::eep`]): 文件实体 (the files by 存储位置 with SHA-256 and SM3 摘要), 业务实体 (one per event), 机构人员实体; SM2-signed when exported with a signer |

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use workflow_core::{DocumentId, FlowState, StreamKind, flow::Closing, flow::Particulars};

use crate::engine::Engine;
use crate::envelope::{Envelope, fixity_digest};
use crate::error::{Error, Result};

/// The package format written in the manifest.
pub const PACKAGE_FORMAT: &str = "workflow-archive-package/2";

/// Package formats [`verify_package`] reads: 1 (events without the optional envelope keys)
/// and 2 (the recipe names the optional keys `kind` and `request_digest`).
const READABLE_FORMATS: [&str; 2] = ["workflow-archive-package/1", PACKAGE_FORMAT];

/// One file listed in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageFile {
    /// Path relative to the package directory.
    pub path: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// For the document's own files (its 正文, its attachments, in `files/`): the name the
    /// document gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A file the document names whose bytes this engine does not keep (a 收文's attachment
/// registered before the engine kept files): listed, not included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotIncluded {
    /// The name the document gives it.
    pub name: String,
    /// SHA-256 of its bytes, hex, as the document names it.
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`PACKAGE_FORMAT`].
    pub format: String,
    /// The document.
    pub document_id: DocumentId,
    /// Its flow (`outgoing` 发文, `incoming` 收文); absent in packages written before 收文.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<workflow_core::StreamKind>,
    /// 标题.
    pub title: String,
    /// 发文字号 once issued; a 收文's 收文编号.
    pub document_number: Option<String>,
    /// 档号, once archived.
    pub archival_reference: Option<String>,
    /// The state at export.
    pub state: String,
    /// Events in `events.jsonl`.
    pub events: u64,
    /// Their global positions, first and last.
    pub positions: (u64, u64),
    /// SHA-256 over the events' hashes (hex, each followed by `\n`), all events.
    pub fixity_hash: String,
    /// The digest recorded in the `Archived` event (covering the events before it).
    pub archived_fixity_hash: Option<String>,
    /// The digest of the events' hashes and the fixity digests: `SHA-256`, or `SM3` for a
    /// log chained with SM3 (the files' `sha256` are SHA-256 either way).
    pub hash_algorithm: String,
    /// How each event's `hash` is computed.
    pub canonical_form: String,
    /// When it was exported (UTC).
    pub exported_at: workflow_core::Timestamp,
    /// The other files and their digests.
    pub files: Vec<PackageFile>,
    /// Files the document names that are not in the package (kept elsewhere).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_included: Vec<NotIncluded>,
}

const CANONICAL_FORM: &str = "hash = SHA-256 of the compact JSON object with these keys in this order: \
position, stream_id, kind (only if present), version, event_id, command_id, request_digest (only if present), \
actor, recorded_at, type, schema_version, payload, prev_hash \
(values as in events.jsonl; payload object keys sorted; no whitespace; non-ASCII characters as raw UTF-8); \
where prev_hash starts with sm3: (a log chained with SM3), hash = sm3: followed by the SM3 (GB/T 32905) of the same bytes, in hex";

const VERIFY_TXT: &str = "How to check this package without the workflow program\n\
\n\
1. For every file listed in manifest.json, its SHA-256 must equal `sha256`.\n\
2. For every line of events.jsonl (an event envelope): build the JSON object with the keys\n\
   position, stream_id, kind, version, event_id, command_id, request_digest, actor,\n\
   recorded_at, type, schema_version, payload, prev_hash in that order, leaving out `kind`\n\
   and `request_digest` where the line has none (events written before they existed),\n\
   payload keys sorted; serialize it compactly (no spaces, non-ASCII as UTF-8), and take\n\
   its SHA-256: it must equal `hash`.\n\
   In Python: json.dumps(obj, separators=(',', ':'), ensure_ascii=False, sort_keys=False)\n\
   with obj['payload'] re-serialized with sort_keys=True.\n\
3. `version` runs 1, 2, 3, ... without gaps; `stream_id` is the document id.\n\
4. SHA-256 over the concatenation of every event's `hash` followed by a newline equals the\n\
   manifest's `fixity_hash`; over the events before the Archived event, it equals the\n\
   `fixity_hash` inside that event's payload (recorded at archiving).\n\
   In a package whose manifest says \"hash_algorithm\": \"SM3\" (a log chained with the\n\
   国密 digest), read SM3 (GB/T 32905) for SHA-256 in steps 2 and 4: the hashes and\n\
   digests are written `sm3:` followed by 64 hex digits. The files' digests in step 1\n\
   stay SHA-256; eep.xml gives each file's SM3 as well.\n\
5. `prev_hash` links each event to the one before it in the engine's global log; with the\n\
   whole log (`workflow verify`) the chain can be checked end to end.\n";

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::InvalidRequest {
        field: "path",
        reason: format!("{}: {e}", path.display()),
    }
}

impl Engine {
    /// Writes the archive package of a document into `dir` (created; must be empty or
    /// absent). Returns the manifest written.
    pub fn export_document(
        &self,
        id: DocumentId,
        dir: &Path,
        now: workflow_core::Timestamp,
    ) -> Result<Manifest> {
        self.export_document_signed(id, dir, now, None)
    }

    /// [`Engine::export_document`], its `eep.xml` (DA/T 48's 电子文件封装包, see
    /// [`crate::eep`]) signed by `signer` when one is given.
    pub fn export_document_signed(
        &self,
        id: DocumentId,
        dir: &Path,
        now: workflow_core::Timestamp,
        signer: Option<&dyn crate::sign::Signer>,
    ) -> Result<Manifest> {
        // A 发文, 收文 or 督办 item (the directory's stream is no document to file).
        let doc = self
            .state(id)?
            .filter(|s| s.directory().is_none())
            .ok_or(Error::NotFound(id))?;
        let events = self.history(id)?;
        if dir.exists()
            && std::fs::read_dir(dir)
                .map_err(|e| io_err(dir, e))?
                .next()
                .is_some()
        {
            return Err(Error::InvalidRequest {
                field: "path",
                reason: format!("{} exists and is not empty", dir.display()),
            });
        }
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let mut jsonl = Vec::new();
        for e in &events {
            serde_json::to_writer(&mut jsonl, e).map_err(|err| Error::corrupt(e.position, err))?;
            jsonl.push(b'\n');
        }
        let document = doc.to_json(true).map_err(|e| Error::corrupt(id, e))?;
        let Particulars {
            number,
            archive,
            state,
            ..
        } = doc.particulars();
        let mut files = Vec::new();
        for (name, bytes) in [
            ("document.json", &document),
            ("events.jsonl", &jsonl),
            ("VERIFY.txt", &VERIFY_TXT.as_bytes().to_vec()),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|e| io_err(&path, e))?;
            files.push(PackageFile {
                path: name.to_owned(),
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
                name: None,
            });
        }
        // The document's own files, as kept, in `files/`, numbered in the document's order.
        let mut not_included = Vec::new();
        for (n, (name, digest)) in doc.files().into_iter().enumerate() {
            let kept = workflow_core::content::Digest::parse(digest)
                .map(|d| {
                    self.inner
                        .storage
                        .content_size(&d)
                        .map(|s| s.map(|s| (d, s)))
                })
                .transpose()?
                .flatten();
            let Some((digest, size)) = kept else {
                not_included.push(NotIncluded {
                    name: name.to_owned(),
                    sha256: digest.to_owned(),
                });
                continue;
            };
            let rel = format!(
                "files/{:02}-{}",
                n + 1,
                workflow_core::content::safe_name(name)
            );
            let path = dir.join(&rel);
            self.copy_kept_file(&digest, size, &path)?;
            files.push(PackageFile {
                path: rel,
                sha256: digest.to_string(),
                bytes: size,
                name: Some(name.to_owned()),
            });
        }
        // The record in DA/T 48's shape, beside the files it names.
        let mut sm3s = Vec::with_capacity(files.len());
        for f in &files {
            let path = dir.join(&f.path);
            let bytes = std::fs::read(&path).map_err(|e| io_err(&path, e))?;
            let kind =
                workflow_core::content::sniffed_kind(f.name.as_deref().unwrap_or(""), &bytes);
            sm3s.push((
                crate::sign::sm3_hex(&bytes),
                kind.map_or("application/octet-stream", |k| k.media_type()),
            ));
        }
        let packed: Vec<crate::eep::PackedFile<'_>> = files
            .iter()
            .zip(sm3s)
            .filter_map(|(f, (sm3, media_type))| {
                let name = f.name.as_deref()?;
                Some(crate::eep::PackedFile {
                    name,
                    path: &f.path,
                    media_type,
                    bytes: f.bytes,
                    sha256: &f.sha256,
                    sm3,
                })
            })
            .collect();
        let eep = crate::eep::write(
            &crate::eep::Record {
                state: &doc,
                events: &events,
                files: &packed,
                actors: &self.actors(),
                units: &self.units(),
                created_at: now,
            },
            signer,
        )?;
        drop(packed);
        let path = dir.join(crate::eep::EEP_FILE);
        std::fs::write(&path, &eep).map_err(|e| io_err(&path, e))?;
        files.push(PackageFile {
            path: crate::eep::EEP_FILE.to_owned(),
            sha256: sha256_hex(&eep),
            bytes: eep.len() as u64,
            name: None,
        });
        let manifest = Manifest {
            format: PACKAGE_FORMAT.to_owned(),
            document_id: id,
            flow: Some(doc.kind()),
            title: doc.title().to_owned(),
            document_number: number,
            archival_reference: archive.map(|a| a.reference.to_string()),
            state: state.to_owned(),
            events: events.len() as u64,
            positions: (
                events.first().map_or(0, |e| e.position),
                events.last().map_or(0, |e| e.position),
            ),
            fixity_hash: fixity_digest(events.iter().map(|e| e.hash.as_str())),
            archived_fixity_hash: archive.and_then(|a| a.fixity_hash.clone()),
            hash_algorithm: events
                .first()
                .map_or(crate::envelope::ChainDigest::Sha256, Envelope::digest)
                .name()
                .to_owned(),
            canonical_form: CANONICAL_FORM.to_owned(),
            exported_at: now,
            files,
            not_included,
        };
        let path = dir.join("manifest.json");
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::corrupt(id, e))?;
        std::fs::write(&path, bytes).map_err(|e| io_err(&path, e))?;
        // The package is worth nothing if it is not on disk.
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(|e| io_err(&path, e))?;
        Ok(manifest)
    }
}

impl Engine {
    /// Writes the kept file `digest` (of `size` bytes) to `path`, checking its digest on the
    /// way and syncing it.
    fn copy_kept_file(
        &self,
        digest: &workflow_core::content::Digest,
        size: u64,
        path: &Path,
    ) -> Result<()> {
        use std::io::Write as _;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
        }
        let mut out = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
        let read = crate::storage::kept::read_kept(&*self.inner.storage, digest, size, |bytes| {
            out.write_all(bytes).map_err(|e| io_err(path, e))
        })?;
        match read {
            None => out.sync_all().map_err(|e| io_err(path, e)),
            Some(crate::storage::kept::KeptProblem::Short(at)) => Err(Error::corrupt(
                format!("file {digest}"),
                format!("it ends at byte {at} of {size}"),
            )),
            Some(crate::storage::kept::KeptProblem::Altered(_)) => Err(Error::corrupt(
                format!("file {digest}"),
                "its kept bytes no longer hash to its digest (run workflow verify)",
            )),
        }
    }
}

/// What kind of thing is wrong with a package (how [`crate::archive_check::check_package`]
/// sorts [`PackageReport::problems`] into its lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PackageFault {
    /// The manifest names a format this does not read.
    Format,
    /// A file the package should hold is missing or cannot be read.
    Unreadable,
    /// A listed file's SHA-256 differs from the manifest's.
    Altered,
    /// An event's hash, or a fixity digest over them, differs from what is recorded.
    Fixity,
    /// The events are not one stream's 1, 2, 3 …, or not as many as the manifest says.
    Process,
    /// `document.json` is not the fold of the events, or they fold into no document.
    State,
    /// A path the manifest lists leads out of the package (absolute, or through `..`): not
    /// read.
    Path,
}

/// Whether `path` (as a manifest or `eep.xml` gives it) names a file inside the package: a
/// relative path of plain names, `/` between them.
pub(crate) fn inside_package(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// One thing wrong with a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageProblem {
    /// What kind of thing.
    pub fault: PackageFault,
    /// The file it is about (its path in the package), when it is about one.
    pub file: Option<String>,
    /// What is wrong, in a sentence.
    pub text: String,
}

impl std::fmt::Display for PackageProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What checking a package found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageReport {
    /// The package directory.
    pub path: PathBuf,
    /// Events checked.
    pub events: u64,
    /// Every problem found, in order; empty when the package is intact.
    pub problems: Vec<PackageProblem>,
}

impl PackageReport {
    /// Whether nothing is wrong.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A package read and checked: what [`verify_package`] reports, and what it read.
pub(crate) struct OpenedPackage {
    pub(crate) manifest: Manifest,
    pub(crate) events: Vec<Envelope>,
    /// The fold of the events, when they fold into a document.
    pub(crate) state: Option<FlowState>,
    pub(crate) report: PackageReport,
}

/// Checks an archive package offline: file digests, every event hash, versions, the fixity
/// digests, and that `document.json` is the fold of the events.
pub fn verify_package(dir: &Path) -> Result<PackageReport> {
    Ok(open_package(dir)?.report)
}

/// Reads and checks the package in `dir` (see [`verify_package`]). Fails only when there is
/// no manifest to read; anything else wrong is a problem in the report.
pub(crate) fn open_package(dir: &Path) -> Result<OpenedPackage> {
    let mut problems = Vec::new();
    let mut problem = |fault, file: Option<&str>, text: String| {
        problems.push(PackageProblem {
            fault,
            file: file.map(str::to_owned),
            text,
        })
    };
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| io_err(&dir.join(name), e));
    let manifest = std::fs::read(dir.join("manifest.json")).map_err(|e| Error::InvalidRequest {
        field: "path",
        reason: format!(
            "{} is no archive package (its manifest.json: {e})",
            dir.display()
        ),
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest).map_err(|e| Error::InvalidRequest {
            field: "manifest.json",
            reason: e.to_string(),
        })?;
    if !READABLE_FORMATS.contains(&manifest.format.as_str()) {
        problem(
            PackageFault::Format,
            Some("manifest.json"),
            format!(
                "manifest format {:?} is not one of {}",
                manifest.format,
                READABLE_FORMATS.join(", ")
            ),
        );
    }
    for f in &manifest.files {
        if !inside_package(&f.path) {
            problem(
                PackageFault::Path,
                Some(&f.path),
                format!("{:?} is not a path inside the package: not read", f.path),
            );
            continue;
        }
        match read(&f.path) {
            Ok(bytes) => {
                let got = sha256_hex(&bytes);
                if got != f.sha256 {
                    problem(
                        PackageFault::Altered,
                        Some(&f.path),
                        format!(
                            "{}: SHA-256 {got} differs from the manifest's {}",
                            f.path, f.sha256
                        ),
                    );
                }
            }
            Err(e) => problem(
                PackageFault::Unreadable,
                Some(&f.path),
                format!("{}: {e}", f.path),
            ),
        }
    }
    // A file the package must hold, read; its absence said once (by the loop above when
    // the manifest lists it).
    let listed = |name: &str| manifest.files.iter().any(|f| f.path == name);
    let required = |name: &str, problem: &mut dyn FnMut(PackageFault, Option<&str>, String)| {
        read(name)
            .map_err(|e| {
                if !listed(name) {
                    problem(PackageFault::Unreadable, Some(name), e.to_string());
                }
            })
            .ok()
    };
    let jsonl = required("events.jsonl", &mut problem).unwrap_or_default();
    let mut events: Vec<Envelope> = Vec::new();
    for (i, line) in jsonl
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        match serde_json::from_slice::<Envelope>(line) {
            Ok(e) => events.push(e),
            Err(err) => problem(
                PackageFault::Fixity,
                Some("events.jsonl"),
                format!("events.jsonl line {}: not an envelope: {err}", i + 1),
            ),
        }
    }
    let mut archived_at = None;
    for (i, e) in events.iter().enumerate() {
        let computed = e.compute_hash();
        if computed != e.hash {
            problem(
                PackageFault::Fixity,
                Some("events.jsonl"),
                format!(
                    "event version {} (position {}): hash mismatch: stored {}, computed {computed}",
                    e.version, e.position, e.hash
                ),
            );
        }
        if e.version != i as u64 + 1 {
            problem(
                PackageFault::Process,
                Some("events.jsonl"),
                format!(
                    "event at line {} has version {}, expected {}",
                    i + 1,
                    e.version,
                    i + 1
                ),
            );
        }
        if e.stream_id != manifest.document_id {
            problem(
                PackageFault::Process,
                Some("events.jsonl"),
                format!(
                    "event version {} belongs to stream {}, not {}",
                    e.version, e.stream_id, manifest.document_id
                ),
            );
        }
        match e.event() {
            Ok(ev) => {
                if let Some(Closing::Filed(fixity_hash)) = ev.data.closing() {
                    archived_at = Some((i, fixity_hash.map(str::to_owned)));
                }
            }
            Err(err) => problem(
                PackageFault::Fixity,
                Some("events.jsonl"),
                format!("event version {}: {err}", e.version),
            ),
        }
    }
    if events.len() as u64 != manifest.events {
        problem(
            PackageFault::Process,
            Some("events.jsonl"),
            format!(
                "events.jsonl has {} events, the manifest says {}",
                events.len(),
                manifest.events
            ),
        );
    }
    if let Some(e) = events
        .iter()
        .find(|e| e.digest().name() != manifest.hash_algorithm)
    {
        problem(
            PackageFault::Fixity,
            Some("events.jsonl"),
            format!(
                "event version {} is chained with {}, the manifest says {}",
                e.version,
                e.digest(),
                manifest.hash_algorithm
            ),
        );
    }
    let digest = fixity_digest(events.iter().map(|e| e.hash.as_str()));
    if digest != manifest.fixity_hash {
        problem(
            PackageFault::Fixity,
            Some("manifest.json"),
            format!(
                "fixity digest over the events is {digest}, the manifest says {}",
                manifest.fixity_hash
            ),
        );
    }
    if let Some((i, Some(recorded))) = archived_at {
        let before = fixity_digest(events[..i].iter().map(|e| e.hash.as_str()));
        if before != recorded {
            problem(
                PackageFault::Fixity,
                Some("events.jsonl"),
                format!(
                    "fixity digest of the events before archiving is {before}, the Archived event recorded {recorded}"
                ),
            );
        }
    }
    let decoded: std::result::Result<Vec<_>, _> = events.iter().map(Envelope::event).collect();
    let folded = decoded.ok().and_then(|evs| {
        let mut state: Option<FlowState> = None;
        for e in &evs {
            match state.as_mut() {
                Some(s) => s.apply(e),
                None => state = FlowState::create(e),
            }
        }
        state
    });
    // document.json is the state in its flow's own form (a 发文's, a 收文's, a 督办 item's).
    if let Some(stated) = required("document.json", &mut problem) {
        let kind = folded
            .as_ref()
            .map_or(StreamKind::Outgoing, FlowState::kind);
        let stated = FlowState::from_json(kind, &stated).map_err(|e| e.to_string());
        let file = Some("document.json");
        match (stated, &folded) {
            (Err(e), _) => problem(PackageFault::State, file, format!("document.json: {e}")),
            (Ok(stated), Some(folded)) if *folded == stated => {}
            (Ok(_), Some(_)) => problem(
                PackageFault::State,
                file,
                "document.json is not the fold of events.jsonl".into(),
            ),
            (Ok(_), None) => problem(
                PackageFault::State,
                Some("events.jsonl"),
                "events.jsonl does not fold into a document".into(),
            ),
        }
    }
    let report = PackageReport {
        path: dir.to_owned(),
        events: events.len() as u64,
        problems,
    };
    Ok(OpenedPackage {
        manifest,
        events,
        state: folded,
        report,
    })
}
