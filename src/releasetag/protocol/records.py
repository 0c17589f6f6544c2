"""Small value classes without ``dataclasses`` (which loads inspect, ast, dis at init).

``Record`` gives the ``__eq__`` and ``__repr__`` a dataclass would over its ``__slots__``;
``FrozenRecord`` also refuses assignment (raising ``dataclasses.FrozenInstanceError``, which
is imported only then) and is hashable. Subclasses set their fields in an explicit
``__init__`` (frozen ones through ``_init``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Tuple


class Record:
    __slots__ = ()

    def _values(self) -> Tuple[Any, ...]:
        names: Tuple[str, ...] = self.__slots__  # type: ignore[assignment,unused-ignore]
        return tuple(getattr(self, name) for name in names)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined,unused-ignore]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable: like a dataclass with eq

    def __repr__(self) -> str:
        names: Tuple[str, ...] = self.__slots__  # type: ignore[assignment,unused-ignore]
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({fields})"


class FrozenRecord(Record):
    __slots__ = ()

    def _init(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:  # type: ignore[override]  # frozen: hashable again
        return hash(self._values())
