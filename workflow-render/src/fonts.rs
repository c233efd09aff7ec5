//! The fonts the layout uses (DESIGN §11), loaded once per process: 仿宋, 楷体, 黑体, the
//! 小标宋 substitute and a 宋体 for page numbers, from Debian's packages by default or, for a
//! program linking this crate, from the files its [`FontFiles`] names (licensed 方正 fonts,
//! say; the `workflow` binary has no setting for them yet and uses Debian's). Each is named
//! with the SHA-256 of its file, recorded in every PDF made with it.

use std::path::{Path, PathBuf};

use typst::foundations::Bytes;
use typst::text::Font;

use crate::RenderError;

/// Where each of the five fonts is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FontFiles {
    /// 仿宋 (正文), e.g. FandolFang.
    pub fang: PathBuf,
    /// 楷体 (签发人, （一） headings), e.g. FandolKai or LXGW WenKai.
    pub kai: PathBuf,
    /// 黑体 (版头 marks, 一、 headings), e.g. Noto Sans CJK SC.
    pub hei: PathBuf,
    /// 小标宋 (发文机关标志, 标题), e.g. Noto Serif CJK SC Bold.
    pub biaosong: PathBuf,
    /// 宋体 (页码), e.g. FandolSong.
    pub song: PathBuf,
}

impl FontFiles {
    /// The fonts of Debian's packages `texlive-lang-chinese` (Fandol) and `fonts-noto-cjk`,
    /// which the README's commands install.
    pub fn debian() -> FontFiles {
        let fandol = Path::new("/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol");
        let noto = Path::new("/usr/share/fonts/opentype/noto");
        FontFiles {
            fang: fandol.join("FandolFang-Regular.otf"),
            kai: fandol.join("FandolKai-Regular.otf"),
            hei: noto.join("NotoSansCJK-Regular.ttc"),
            biaosong: noto.join("NotoSerifCJK-Bold.ttc"),
            song: fandol.join("FandolSong-Regular.otf"),
        }
    }
}

/// A font as a rendering used it: its role, family, file and the file's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FontUsed {
    /// 仿宋, 楷体, 黑体, 小标宋 or 宋体.
    pub role: &'static str,
    /// The family the layout asks for, e.g. `FandolFang`.
    pub family: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// SHA-256 of the file.
    pub sha256: String,
}

impl FontUsed {
    /// How a PDF names it among its keywords: `仿宋 FandolFang sha256:…`.
    pub fn keyword(&self) -> String {
        format!("{} {} sha256:{}", self.role, self.family, self.sha256)
    }
}

/// The fonts, loaded.
#[derive(Debug, Clone)]
pub struct Fonts {
    pub(crate) fonts: Vec<Font>,
    pub(crate) used: Vec<FontUsed>,
}

/// The families a role's file holds, for a collection the one whose name says SC (简体).
fn family_of(fonts: &[Font], role: &str, path: &Path) -> Result<String, RenderError> {
    let families: Vec<&str> = fonts.iter().map(|f| f.info().family.as_str()).collect();
    families
        .iter()
        .find(|f| f.ends_with(" SC"))
        .or(families.first())
        .map(|f| (*f).to_owned())
        .ok_or_else(|| RenderError::Font {
            path: path.to_owned(),
            reason: format!("holds no font for {role}"),
        })
}

impl Fonts {
    /// Reads the five fonts (a missing or unreadable file is an error naming it).
    pub fn load(files: &FontFiles) -> Result<Fonts, RenderError> {
        let mut fonts = Vec::new();
        let mut used = Vec::new();
        for (role, path) in [
            ("仿宋", &files.fang),
            ("楷体", &files.kai),
            ("黑体", &files.hei),
            ("小标宋", &files.biaosong),
            ("宋体", &files.song),
        ] {
            let bytes = std::fs::read(path).map_err(|e| RenderError::Font {
                path: path.clone(),
                reason: format!(
                    "{e} (install Debian's texlive-lang-chinese and fonts-noto-cjk, or configure the font files)"
                ),
            })?;
            let sha256 = workflow_core::content::Digest::of(&bytes).to_string();
            let faces: Vec<Font> = Font::iter(Bytes::new(bytes)).collect();
            let family = family_of(&faces, role, path)?;
            used.push(FontUsed {
                role,
                family,
                file: path.clone(),
                sha256,
            });
            fonts.extend(faces);
        }
        Ok(Fonts { fonts, used })
    }

    /// The fonts, as used: role, family, file, digest.
    pub fn used(&self) -> &[FontUsed] {
        &self.used
    }

    pub(crate) fn family(&self, role: &str) -> &str {
        self.used
            .iter()
            .find(|u| u.role == role)
            .map_or("", |u| u.family.as_str())
    }
}
