"""The SD card: a folder shown with 8.3 names, file selection, SD printing, uploads and deletes."""
import os
import re
import time
from collections import namedtuple
from pathlib import Path

from .gcode import params

GCODE_EXTENSIONS = {"gcode", "gco", "g"}
Entry = namedtuple("Entry", "short long size mtime path")
_SHORT_OK = re.compile(r"^[A-Z0-9_\-~!#$%&'()@^`{}]{1,8}(\.[A-Z0-9_\-~!#$%&'()@^`{}]{1,3})?$")
_SHORT_STRIP = re.compile(r"[^A-Z0-9_]")


class SdCard:
    """Card state of one firmware life; the files themselves outlive resets."""

    def __init__(self, fw, folder, inserted: bool):
        self.fw = fw
        self.folder = Path(folder) if folder else None
        self.inserted = inserted and self.folder is not None
        self.mounted = self.inserted
        self.selected = None
        self.data = b""
        self.pos = 0
        self.printing = False
        self.paused = False
        self.saving = None

    @property
    def active(self) -> bool:
        return self.printing and not self.paused

    def entries(self) -> list:
        files = sorted(e for e in os.listdir(self.folder)
                       if not e.startswith(".") and e.rpartition(".")[2].lower() in GCODE_EXTENSIONS
                       and (self.folder / e).is_file())
        taken, result = set(), []
        for name in files:
            short = short_name(name, taken)
            taken.add(short)
            stat = (self.folder / name).stat()
            result.append(Entry(short, name, stat.st_size, stat.st_mtime, self.folder / name))
        return result

    def find(self, name: str):
        wanted = name.strip().lstrip("/").upper()
        for entry in self.entries():
            if wanted in (entry.short, entry.long.upper()):
                return entry
        return None

    def status(self) -> str:
        if self.selected is not None and (self.printing or self.paused):
            return f"SD printing byte {self.pos}/{len(self.data)}"
        return "Not SD printing"

    def step(self):
        """Run the next line of the file being printed, as Marlin feeds SD lines to its queue."""
        data = self.data
        end = data.find(b"\n", self.pos)
        end = len(data) if end < 0 else end + 1
        line = data[self.pos:end]
        self.pos = end
        for mark in (b";", b"*"):
            if mark in line:
                line = line[:line.index(mark)]
        text = line.strip().decode("latin-1")
        if text:
            self.fw.execute(text, ack=False)
        if self.printing and self.pos >= len(self.data):
            self.printing = self.paused = False
            self.selected = None
            self.fw.out.emit("Done printing file")

    def write_line(self, text: str):
        self.saving.write(text.encode("latin-1") + b"\n")

    def abort(self):
        self.printing = self.paused = False

    def close(self):
        self.abort()
        if self.saving is not None:
            self.saving.close()
            self.saving = None


def short_name(name: str, taken: set) -> str:
    """The FAT 8.3 alias Marlin prints first: 'LONGNA~1.GCO' for 'Long Name.gcode'."""
    upper = name.upper()
    if _SHORT_OK.match(upper) and upper not in taken:
        return upper
    stem, dot, ext = upper.rpartition(".")
    if not dot:
        stem, ext = upper, ""
    stem = _SHORT_STRIP.sub("", stem) or "FILE"
    ext = _SHORT_STRIP.sub("", ext)[:3]
    suffix = f".{ext}" if ext else ""
    counter = 1
    while True:
        tail = f"~{counter}"
        candidate = stem[:8 - len(tail)] + tail + suffix
        if candidate not in taken:
            return candidate
        counter += 1


def fat_timestamp(mtime: float) -> str:
    t = time.localtime(mtime)
    date = ((max(t.tm_year, 1980) - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday
    clock = (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2)
    return f"0x{date:04X}{clock:04X}"


def _mounted(fw) -> bool:
    if not fw.sd.mounted:
        fw.out.emit("echo:No media")
    return fw.sd.mounted


def m20(fw, args):
    if not _mounted(fw):
        return
    flags = params(args.upper())
    fw.out.emit("Begin file list")
    for entry in fw.sd.entries():
        fields = [entry.short, str(entry.size)]
        if "T" in flags:
            fields.append(fat_timestamp(entry.mtime))
        if "L" in flags:
            fields.append(entry.long)
        fw.out.emit(" ".join(fields))
    fw.out.emit("End file list")


def m21(fw, args):
    fw.sd.mounted = fw.sd.inserted
    fw.out.emit("echo:SD card ok" if fw.sd.mounted else "echo:No SD card")


def m22(fw, args):
    fw.sd.close()
    fw.sd.selected = None
    fw.sd.mounted = False
    fw.out.emit("echo:SD card released")


def m23(fw, args):
    if not _mounted(fw):
        return
    sd, name = fw.sd, args.strip().lstrip("/")
    entry = sd.find(name)
    if entry is None:
        fw.out.emit(f"open failed, File: {name}.")
        return
    sd.abort()
    sd.selected, sd.data, sd.pos = entry, entry.path.read_bytes(), 0
    fw.out.emit(f"echo:Now fresh file: {name}")
    fw.out.emit(f"File opened: {name} Size: {len(sd.data)}")
    fw.out.emit("File selected")


def m24(fw, args):
    sd = fw.sd
    if sd.selected is not None:
        sd.printing, sd.paused = True, False


def m25(fw, args):
    if fw.sd.printing:
        fw.sd.paused = True


def m26(fw, args):
    value = params(args).get("S")
    if fw.sd.selected is not None and value is not None:
        fw.sd.pos = max(0, min(int(value), len(fw.sd.data)))


def m27(fw, args):
    values = params(args.upper())
    if "C" in values:
        entry = fw.sd.selected
        fw.out.emit(f"Current file: {entry.short} {entry.long}" if entry else "Current file: (no file)")
    elif values.get("S") is not None:
        fw.reports.set_sd_interval(int(values["S"]))
    else:
        fw.out.emit(fw.sd.status())


def m28(fw, args):
    if not _mounted(fw):
        return
    name = args.strip().lstrip("/")
    try:
        if not name or "/" in name:
            raise OSError(name)
        fw.sd.saving = open(fw.sd.folder / name, "wb")
    except (OSError, ValueError):
        fw.out.emit(f"open failed, File: {name}.")
        return
    fw.out.emit(f"Writing to file: {name}")


def m29(fw, args):
    if fw.sd.saving is not None:
        fw.sd.saving.close()
        fw.sd.saving = None
        fw.out.emit("Done saving file.")


def m30(fw, args):
    name = args.strip().lstrip("/")
    entry = fw.sd.find(name) if fw.sd.mounted else None
    if entry is None:
        fw.out.emit(f"Deletion failed, File: {name}.")
        return
    if fw.sd.selected == entry:
        fw.sd.abort()
        fw.sd.selected = None
    entry.path.unlink()
    fw.out.emit(f"File deleted:{name}")


def m33(fw, args):
    entry = fw.sd.find(args) if fw.sd.mounted else None
    fw.out.emit(entry.long if entry else args.strip())


def m524(fw, args):
    fw.sd.abort()
    fw.sd.selected = None


HANDLERS = {
    "M20": m20, "M21": m21, "M22": m22, "M23": m23, "M24": m24, "M25": m25, "M26": m26,
    "M27": m27, "M28": m28, "M29": m29, "M30": m30, "M33": m33, "M524": m524,
}
