"""What a copied file is, from what every file log names: its path. A leaver taking their own photos, music and
videos home is tidying up, not taking the company's work; a work document in a photo folder is still work.

:func:`personal_media` is True for an object in a personal-media folder (``Pictures``, ``Photos``, ``DCIM``,
``Music``, ``Videos``... anywhere in its path, or the folder itself: ``E:\\Pictures\\2019``) that is itself a
folder or a media file (pictures, video, audio). Anything else, including a spreadsheet under ``Pictures``, is
work content for the rules that weigh what leaves the company.

>>> [personal_media(p) for p in (r"E:\\Pictures\\2019", r"E:\\Pictures\\2019\\IMG_0042.JPG",
...                              r"F:\\DCIM\\100APPLE", "/Volumes/USB/Music/Album/01 Song.mp3")]
[True, True, True, True]
>>> [personal_media(p) for p in (r"E:\\Pictures\\2019\\BOM 001.xlsx", r"E:\\digital\\projects\\BOM 001.xlsx",
...                              r"E:\\digital\\diagrams\\pump.png", None, "")]
[False, False, False, False, False]

:func:`own_media` also reads an upload a web proxy names by its file alone (``photo-576.jpg``, no folder): an
unlabelled picture, video or song with no work folder around it is the person's own; a labelled one is work.

>>> [own_media(p, None) for p in ("photo-576.jpg", "IMG_0042.HEIC", r"E:\\Pictures\\2019", "doc-0629.pdf")]
[True, True, True, False]
>>> [own_media(p, lab) for p, lab in (("photo-576.jpg", "confidential"), (r"E:\\digital\\diagrams\\pump.png", None),
...                                   ("https://dropbox.com/", None), (None, None))]
[False, False, False, False]
"""

from __future__ import annotations

#: Folders people keep their own media in (Windows, macOS, phones, cameras), lower case.
PERSONAL_FOLDERS = frozenset({
    "pictures", "my pictures", "photos", "my photos", "dcim", "camera roll", "camera uploads", "saved pictures",
    "music", "my music", "itunes", "videos", "my videos", "movies",
})
#: File types of pictures, video and audio.
MEDIA_TYPES = frozenset({
    "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "heic", "heif", "webp", "raw", "cr2", "cr3", "nef", "arw",
    "dng", "orf", "rw2", "mp4", "mov", "m4v", "avi", "mkv", "wmv", "3gp", "mts", "mp3", "m4a", "aac", "wav",
    "flac", "ogg", "wma", "aiff",
})


def personal_media(obj: str | None) -> bool:
    """Whether ``obj`` (a path) is a personal-media folder or a media file in one."""
    if not obj:
        return False
    parts = [p for p in obj.replace("\\", "/").lower().split("/") if p]
    if not parts:
        return False
    name = parts[-1]
    ext = name.rsplit(".", 1)[1] if "." in name else ""
    if ext and (len(ext) > 5 or not ext.isalnum() or ext.isdigit()):
        ext = ""  # "v1.2", "2019.03": not a file type
    if not any(p in PERSONAL_FOLDERS for p in parts[:-1]) and not (not ext and name in PERSONAL_FOLDERS):
        return False
    return not ext or ext in MEDIA_TYPES


def own_media(obj: str | None, sensitivity: str | None) -> bool:
    """Whether an unlabelled (or public) ``obj`` is the person's own media: :func:`personal_media`, or a
    picture, video or audio file named without any folder (a proxy's upload of one file). A label other
    than public makes it work, whatever it is."""
    if sensitivity not in (None, "public") or not obj:
        return False
    if personal_media(obj):
        return True
    if "/" in obj or "\\" in obj or ":" in obj:
        return False
    ext = obj.rsplit(".", 1)[1].lower() if "." in obj else ""
    return ext in MEDIA_TYPES
