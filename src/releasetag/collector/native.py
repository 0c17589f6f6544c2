"""Native frames named from the symbol tables of uploaded debug files, at ingest.

A frame with an ``instruction_addr`` inside one of the event's ``debug_meta.images`` (type
``elf``, with ``image_addr`` and a ``debug_id``) whose debug ID matches an uploaded debug file
of the project gets ``function`` (and ``symbol``) from the ELF's ``.symtab`` (else
``.dynsym``): the function symbol whose range holds the address. The address is taken
relative to the image's load address and the ELF's first loadable segment
(``image_vmaddr`` when the SDK sends it).

File, line and source context come from the ELF's DWARF line tables and the project's source
bundles (``native_sources.locate``). What is not resolved, and said so in the frame's
``data.resolution``: inlined functions, Mach-O and PE images (their symbol tables
are not read here), and addresses outside every function symbol. The symbol tables are
read by ``formats.elf.function_symbols``, which checks every count and offset against the
file's size first, so a malformed table costs one bounded read; the result (or the reason
the file cannot be read) is cached per debug file.
"""

from __future__ import annotations

import bisect
from array import array
from typing import Any, Dict, List, Optional

from releasetag.protocol.log import internal_error

from .unminify import MapCache

NATIVE_TYPES = ("elf", "macho", "pe")


class Symbols:
    """Function symbols of one ELF file, sorted by address, kept compact (cached per debug
    file, a file that cannot be read too, with its reason)."""

    __slots__ = ("starts", "sizes", "names", "strings", "vmaddr", "size", "problem")

    def __init__(self, data: Optional[bytes]) -> None:
        from releasetag.build.artifacts.formats.elf import function_symbols

        self.starts, self.sizes, self.names = array("Q"), array("Q"), array("L")
        self.strings, self.vmaddr, self.size = b"", 0, 200
        self.problem: Optional[str] = None
        if data is None:
            self.problem = "the debug file's bytes are gone"
            return
        try:
            self.vmaddr, entries, self.strings = function_symbols(data)
        except Exception as exc:  # struct errors on a truncated file, malformed headers
            self.problem = f"the debug file is not a readable ELF file ({str(exc)[:160]})"
            return
        if not entries:
            self.problem = "the debug file has no function symbols"
        for start, size, name in entries:
            self.starts.append(start)
            self.sizes.append(size)
            self.names.append(name)
        self.size += len(self.strings) + 20 * len(entries)

    def lookup(self, address: int) -> Optional[str]:
        i = bisect.bisect_right(self.starts, address) - 1
        if i < 0:
            return None
        if address >= self.starts[i] + max(self.sizes[i], 1):
            return None
        from releasetag.build.artifacts.formats.elf import symbol_name

        return symbol_name(self.strings, self.names[i])


def _int(value: Any) -> Optional[int]:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if value.lower().startswith("0x") else int(value)
        except ValueError:
            return None
    return None


class NativeResolver:
    """Names native frames of events against one store's debug files."""

    def __init__(self, store: Any, cache: Optional[MapCache] = None) -> None:
        self.store = store
        self.cache = cache or MapCache()

    def resolve_event(self, project_id: int, event: Dict[str, Any]) -> int:
        try:
            return self._resolve(project_id, event)
        except Exception:  # never a 500: the event is stored as it came
            internal_error("native symbol resolution failed")
            return 0

    def _resolve(self, project_id: int, event: Dict[str, Any]) -> int:
        meta = event.get("debug_meta")
        raw_images = meta.get("images") if isinstance(meta, dict) else None
        images = []
        for image in raw_images if isinstance(raw_images, list) else []:
            if isinstance(image, dict) and image.get("type") in NATIVE_TYPES:
                start, size = _int(image.get("image_addr")), _int(image.get("image_size"))
                if start is not None:
                    images.append((start, size or 0, image))
        if not images:
            return 0
        exceptions = event.get("exception")
        values = exceptions.get("values") if isinstance(exceptions, dict) else exceptions
        done = 0
        for exc in values if isinstance(values, list) else []:
            trace = exc.get("stacktrace") if isinstance(exc, dict) else None
            frames = trace.get("frames") if isinstance(trace, dict) else None
            frames = frames if isinstance(frames, list) else []
            for number, frame in enumerate(frames):
                address = _int(frame.get("instruction_addr")) if isinstance(frame, dict) else None
                caller = number < len(frames) - 1  # a return address (the last frame crashed)
                if address is not None and self._frame(project_id, frame, address, images, caller):
                    done += 1
        return done

    def _frame(
        self, project_id: int, frame: Dict[str, Any], address: int, images: List, caller: bool
    ) -> bool:
        steps: List[str] = []
        image = next((i for s, n, i in images if s <= address and (not n or address < s + n)), None)
        if image is None:
            steps.append(f"address {address:#x} is in none of the event's images")
            return _record(frame, False, steps)
        name = image.get("code_file") or image.get("debug_file") or image.get("debug_id")
        if image.get("type") != "elf":
            steps.append(f"{name}: {image.get('type')} symbol tables are not read by the collector")
            return _record(frame, False, steps)
        debug_id = image.get("debug_id")
        rows = [
            r
            for r in (
                self.store.debug_files_by_debug_id(project_id, debug_id)
                if isinstance(debug_id, str)
                else []
            )
            if r["kind"] != "sourcebundle"  # sources only: native_sources reads them
        ]
        if not rows:
            steps.append(f"{name}: no uploaded debug file has debug ID {debug_id}")
            return _record(frame, False, steps)
        row = rows[-1]
        symbols = self.cache.get(
            ("elf", row["id"]), lambda: Symbols(self.store.debug_file_data(row["id"]))
        )
        if symbols.problem:
            steps.append(f"{row['name']}: {symbols.problem}")
            return _record(frame, False, steps)
        vmaddr = _int(image.get("image_vmaddr"))
        base = _int(image.get("image_addr")) or 0
        relative = address - base + (symbols.vmaddr if vmaddr is None else vmaddr)
        function = symbols.lookup(relative)
        if function is None:
            steps.append(f"{row['name']}: no function symbol holds {relative:#x}")
            return _record(frame, False, steps)
        frame["function"] = frame["symbol"] = function
        steps.append(f"named from {row['name']}'s symbol table ({relative:#x})")
        from .native_sources import locate

        locate(self.store, self.cache, project_id, row, frame, relative, caller, steps)
        return _record(frame, True, steps, via=f"debug file {row['name']}")


def _record(frame: Dict[str, Any], ok: bool, steps: List[str], via: Optional[str] = None) -> bool:
    resolution: Dict[str, Any] = {"resolved": ok, "steps": steps}
    if via:
        resolution["via"] = via
    data = frame.get("data")
    frame["data"] = dict(data if isinstance(data, dict) else {}, resolution=resolution)
    return ok
