//! Files a document carries (DESIGN §10): its 正文 and attachments, kept by the store under
//! their SHA-256 digest and named by events as a [`FileRef`]. What a file may be — its name,
//! its kind by the bytes' signature — is decided here; keeping the bytes is the store's.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A SHA-256 digest, 64 lower-case hex digits (read back only as such: a stored digest that
/// is not one is refused, never used to name a file).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Digest(String);

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a SHA-256 digest")))
    }
}

impl Digest {
    /// The digest of `hex`, if it is 64 hex digits (either case; kept lower-case).
    pub fn parse(hex: &str) -> Option<Digest> {
        let hex = hex.trim();
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Digest(hex.to_ascii_lowercase()))
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest::from_sha256(sha2::Sha256::digest(bytes).into())
    }

    /// A finished SHA-256 (its 32 bytes: no other length makes a digest), as hex.
    pub fn from_sha256(output: [u8; 32]) -> Digest {
        use std::fmt::Write as _;
        let mut hex = String::with_capacity(64);
        for b in output {
            let _ = write!(hex, "{b:02x}");
        }
        Digest(hex)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file as an event names it: its name, digest, size and kind (and pages, where known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The file's name as people know it, e.g. `关于举办竞赛的请示.pdf`.
    pub name: String,
    /// SHA-256 of its bytes.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// Its media type, from the bytes' signature, e.g. `application/pdf`.
    pub media_type: String,
    /// 页数, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
}

/// The files a document names: its 正文 (the text as a file: .docx, .wps, .ofd, .pdf) and its
/// attachments, in order. Revising replaces them whole; the log keeps the earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentFiles {
    /// 正文, where kept as a file (boxed: most commands and events name none, and carry
    /// the space of a pointer for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<Box<FileRef>>,
    /// 附件, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<FileRef>,
}

impl DocumentFiles {
    /// Whether it names no file (then an event leaves it out, so that documents without
    /// files are written as they were before files were kept).
    pub fn is_empty(&self) -> bool {
        self.main.is_none() && self.attachments.is_empty()
    }

    /// Every file, the 正文 first, each with the field that names it
    /// (`files.main`, `files.attachments[1]`).
    pub fn iter(&self) -> impl Iterator<Item = (String, &FileRef)> {
        self.main
            .as_deref()
            .map(|f| ("files.main".to_owned(), f))
            .into_iter()
            .chain(
                self.attachments
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (format!("files.attachments[{i}]"), f)),
            )
    }

    /// Every file, the 正文 first.
    pub fn refs(&self) -> impl Iterator<Item = &FileRef> {
        self.main.as_deref().into_iter().chain(&self.attachments)
    }

    /// Every file as (name, SHA-256 hex), the 正文 first: as [`crate::Flow::files`] lists them.
    pub fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.refs().map(|f| (f.name.as_str(), f.digest.as_str()))
    }

    /// The digest of the 正文 file, if any: what an approval is bound to.
    pub fn main_digest(&self) -> Option<&Digest> {
        self.main.as_ref().map(|f| &f.digest)
    }
}

/// Refuses a command given on a 正文 (`shown`, its SHA-256) other than the document's
/// `current` one (`CONTENT_CHANGED`): the text changed after the actor was shown it. A
/// command that names none is decided on the current text, which its event records.
pub fn require_shown(
    command: &'static str,
    shown: Option<&Digest>,
    current: Option<Digest>,
) -> Result<(), crate::Error> {
    match shown {
        Some(shown) if Some(shown) != current.as_ref() => Err(crate::Error::ContentChanged {
            command,
            shown: shown.clone(),
            current,
        }),
        _ => Ok(()),
    }
}

/// A kept file as a decision sees it (see [`crate::Context::uploaded_file`]): its size and
/// first bytes, by which its kind is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFile {
    /// Its size in bytes.
    pub size: u64,
    /// Its first bytes (up to 8).
    pub head: Vec<u8>,
}

/// The most files one document names.
pub const MAX_FILES: usize = 100;

/// Checks the files a command names for a document: at most [`MAX_FILES`], each named well,
/// each once; each one the document names already (in `named`) as it names it there (its
/// size and media type: a revision may rename a file, never relabel it); and every other one
/// kept, uploaded by `actor` (so that nobody can name, and then read through their own
/// document, a file they only know the digest of), with the size it was kept with and a
/// media type its bytes bear out. A file the actor did not upload is told as not uploaded,
/// whoever did: the answer says nothing of which bytes the engine keeps. `prefix` is where
/// the files sit in the command (`""` for a draft's fields, `"registration."`).
pub fn check_files(
    ctx: &dyn crate::Context,
    actor: &crate::ActorId,
    prefix: &str,
    files: &DocumentFiles,
    named: &DocumentFiles,
) -> Result<(), crate::Error> {
    use crate::Error;
    if files.attachments.len() > MAX_FILES {
        return Err(Error::field(
            format!("{prefix}files.attachments"),
            format!("at most {MAX_FILES} files"),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (field, f) in files.iter() {
        let field = format!("{prefix}{field}");
        if let Some(problem) = name_problem(&f.name) {
            return Err(Error::field(format!("{field}.name"), problem));
        }
        if !seen.insert(&f.digest) {
            return Err(Error::field(
                format!("{field}.sha256"),
                format!("{} is named twice", f.digest),
            ));
        }
        let (size, admitted) = match named.refs().find(|n| n.digest == f.digest) {
            Some(before) => (before.size, before.media_type == f.media_type),
            None => {
                let Some(kept) = ctx.uploaded_file(&f.digest, actor)? else {
                    return Err(Error::FileNotUploaded {
                        field,
                        digest: f.digest.clone(),
                        actor: actor.clone(),
                    });
                };
                (kept.size, signature(&kept.head).admits(&f.media_type))
            }
        };
        if size != f.size {
            return Err(Error::field(
                format!("{field}.size"),
                format!("the file {} is {size} bytes, not {}", f.digest, f.size),
            ));
        }
        if !admitted {
            return Err(Error::field(
                format!("{field}.media_type"),
                format!(
                    "the bytes of {} are not {:?}: name the media type the upload answered",
                    f.name, f.media_type
                ),
            ));
        }
    }
    Ok(())
}

/// The longest file name, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// Why a file name is refused, or `None`: a name is 1–255 characters without path
/// separators, control characters or a leading dot, so that it can name a file anywhere it
/// is saved (a download, an archive package) and never a place.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("a file needs a name".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Some(format!("longer than {MAX_NAME_CHARS} characters"));
    }
    if name.contains(['/', '\\']) {
        return Some(format!("{name:?} holds a path separator"));
    }
    if name.chars().any(char::is_control) {
        return Some(format!("{name:?} holds a control character"));
    }
    if name.starts_with('.') || name != name.trim() {
        return Some(format!(
            "{name:?} starts with a dot or blank, or ends with a blank"
        ));
    }
    None
}

/// `name` as a file name anywhere it is saved: path separators and control characters
/// replaced by `_` (for names recorded before names were checked, e.g. a 收文's attachments).
pub fn safe_name(name: &str) -> String {
    let s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_owned();
    if s.is_empty() { "file".into() } else { s }
}

/// A kind of file the engine keeps, known by its bytes' signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// PDF.
    Pdf,
    /// OFD (GB/T 33190), a ZIP package with `OFD.xml`.
    Ofd,
    /// Word (OOXML), a ZIP package with `word/`.
    Docx,
    /// Excel (OOXML), a ZIP package with `xl/`.
    Xlsx,
    /// Word 97–2003, an OLE compound file.
    Doc,
    /// WPS 文字, an OLE compound file.
    Wps,
    /// JPEG.
    Jpg,
    /// PNG.
    Png,
    /// Any other ZIP archive.
    Zip,
}

impl FileKind {
    /// Every kind, the default allow-list.
    pub const ALL: [FileKind; 9] = [
        FileKind::Pdf,
        FileKind::Ofd,
        FileKind::Docx,
        FileKind::Xlsx,
        FileKind::Doc,
        FileKind::Wps,
        FileKind::Jpg,
        FileKind::Png,
        FileKind::Zip,
    ];

    /// The name configurations use: `pdf`, `ofd`, ….
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Ofd => "ofd",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
            FileKind::Doc => "doc",
            FileKind::Wps => "wps",
            FileKind::Jpg => "jpg",
            FileKind::Png => "png",
            FileKind::Zip => "zip",
        }
    }

    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Ofd => "application/ofd",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Doc => "application/msword",
            FileKind::Wps => "application/vnd.ms-works",
            FileKind::Jpg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Zip => "application/zip",
        }
    }

    /// Whether a browser shows it inline (PDF and images) rather than saving it.
    pub fn inline(self) -> bool {
        matches!(self, FileKind::Pdf | FileKind::Jpg | FileKind::Png)
    }
}

impl std::str::FromStr for FileKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        FileKind::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                format!("{s:?} is not a file kind: pdf, ofd, docx, xlsx, doc, wps, jpg, png, zip")
            })
    }
}

/// What a file's first bytes say it is: a format by its signature, or a container whose
/// entries decide (ZIP: OFD, DOCX, XLSX or another archive; OLE: DOC or WPS, told apart by
/// the name's extension, as the format does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// A format the signature alone names.
    Kind(FileKind),
    /// A ZIP archive: its entries' names decide.
    Zip,
    /// An OLE compound file: the name's extension decides.
    Ole,
    /// None the engine keeps.
    Unknown,
}

impl Signature {
    /// Whether a file with this signature may be of `media_type`: the media type of its
    /// kind, or of a kind its container may hold.
    pub fn admits(self, media_type: &str) -> bool {
        let of = |kinds: &[FileKind]| kinds.iter().any(|k| k.media_type() == media_type);
        match self {
            Signature::Kind(k) => k.media_type() == media_type,
            Signature::Zip => of(&[FileKind::Ofd, FileKind::Docx, FileKind::Xlsx, FileKind::Zip]),
            Signature::Ole => of(&[FileKind::Doc, FileKind::Wps]),
            Signature::Unknown => false,
        }
    }
}

/// The signature of a file whose bytes begin with `head` (its first 8 bytes suffice).
pub fn signature(head: &[u8]) -> Signature {
    if head.starts_with(b"%PDF-") {
        Signature::Kind(FileKind::Pdf)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Signature::Kind(FileKind::Jpg)
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Signature::Kind(FileKind::Png)
    } else if head.starts_with(b"PK\x03\x04") {
        Signature::Zip
    } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Signature::Ole
    } else {
        Signature::Unknown
    }
}

/// The kind of a kept file named `name` whose bytes begin with `head`, as far as they tell
/// without opening it: by signature, an OLE file by its extension, a ZIP archive by its
/// extension among the kinds a ZIP may be (the upload read its entries; this does not).
/// `None` for bytes of no kind the engine keeps (a digest recorded before files were kept).
pub fn sniffed_kind(name: &str, head: &[u8]) -> Option<FileKind> {
    match signature(head) {
        Signature::Kind(k) => Some(k),
        Signature::Ole => Some(ole_kind(name)),
        Signature::Zip => {
            let lower = name.to_ascii_lowercase();
            Some(
                [FileKind::Ofd, FileKind::Docx, FileKind::Xlsx]
                    .into_iter()
                    .find(|k| lower.ends_with(&format!(".{}", k.name())))
                    .unwrap_or(FileKind::Zip),
            )
        }
        Signature::Unknown => None,
    }
}

/// The kind of a ZIP archive with these entry names.
pub fn zip_kind<'a>(entries: impl IntoIterator<Item = &'a str>) -> FileKind {
    let mut kind = FileKind::Zip;
    for e in entries {
        if e.eq_ignore_ascii_case("OFD.xml") {
            return FileKind::Ofd;
        }
        if e.starts_with("word/") {
            kind = FileKind::Docx;
        } else if e.starts_with("xl/") {
            kind = FileKind::Xlsx;
        }
    }
    kind
}

/// The kind of an OLE compound file named `name`: WPS for `.wps`, else DOC.
pub fn ole_kind(name: &str) -> FileKind {
    if name.to_ascii_lowercase().ends_with(".wps") {
        FileKind::Wps
    } else {
        FileKind::Doc
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_the_sha256_of_the_bytes_in_lower_case_hex() {
        // FIPS 180-2's example.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(Digest::of(b"abc").as_str(), abc);
        assert_eq!(Digest::parse(&abc.to_uppercase()), Some(Digest::of(b"abc")));
    }

    #[test]
    fn names_that_could_name_a_place_or_hide_characters_are_refused() {
        assert_eq!(name_problem("关于举办竞赛的请示.pdf"), None);
        for bad in [
            "",
            " ",
            "../etc/passwd",
            "a\\b.doc",
            "a\nb.pdf",
            ".hidden",
            "x.pdf ",
        ] {
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
        assert!(name_problem(&"字".repeat(256)).is_some());
        // Names recorded before they were checked are made safe to save.
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name("a\r\nb.pdf"), "a__b.pdf");
        assert_eq!(safe_name("..."), "file");
        // A stored digest that is not one does not read back.
        assert!(serde_json::from_str::<Digest>("\"../../x\"").is_err());
        assert!(serde_json::from_str::<Digest>(&format!("\"{}\"", "a".repeat(64))).is_ok());
    }

    #[test]
    fn a_file_is_known_by_its_bytes_not_its_name() {
        assert_eq!(signature(b"%PDF-1.7\n"), Signature::Kind(FileKind::Pdf));
        assert_eq!(
            signature(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Signature::Kind(FileKind::Jpg)
        );
        assert_eq!(signature(b"PK\x03\x04\x14\x00"), Signature::Zip);
        assert_eq!(signature(b"MZ\x90\x00"), Signature::Unknown);
        assert_eq!(
            zip_kind(["[Content_Types].xml", "word/document.xml"]),
            FileKind::Docx
        );
        assert_eq!(zip_kind(["OFD.xml", "Doc_0/Document.xml"]), FileKind::Ofd);
        assert_eq!(zip_kind(["a.txt"]), FileKind::Zip);
        assert_eq!(ole_kind("年度总结.WPS"), FileKind::Wps);
        assert_eq!(
            Digest::parse(&"A".repeat(64)).unwrap().as_str(),
            "a".repeat(64)
        );
        assert_eq!(Digest::parse("abc"), None);
    }
}
