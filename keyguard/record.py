"""Records: classes of named fields, as `dataclasses` makes them, without its start-up cost.

The pre-commit hook runs keyguard once per commit, so its start-up is most of the hook's time.
Importing dataclasses (inspect, ast, dis and tokenize come with it) and generating the code of
the hook's 18 dataclasses took ~20 ms of a 68 ms hook (benchmarks/README.md, seventh session).
A record's class is made by the metaclass below without generating code: its fields are its
annotations, in order, held in __slots__; one shared __init__ takes them by keyword (or in
order), with their defaults. A record is immutable unless declared `frozen=False`; records
are equal when their fields that compare are, and hash the same then; their repr leaves out
fields declared `repr=False` (secrets). mypy checks them as keyword-only frozen dataclasses
(dataclass_transform), so a missing or misspelt field is a type error, as with dataclasses.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~4 ms): mypy knows the name
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    from typing_extensions import dataclass_transform  # typing's from 3.11; mypy brings it

    R = TypeVar("R", bound="Record")
else:

    def dataclass_transform(**_options: object) -> object:
        return lambda cls: cls


_MISSING = object()


class _Field:
    __slots__ = ("compare", "default", "factory", "repr")

    def __init__(self, default: Any, factory: Any, repr: bool, compare: bool) -> None:
        self.default, self.factory, self.repr, self.compare = default, factory, repr, compare


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING, repr: bool = True,
          compare: bool = True) -> Any:
    """A field's default (a value, or a function that makes one per record) and whether it is
    shown by repr and compared by ==."""
    return _Field(default, default_factory, repr, compare)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class _RecordType(type):
    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                frozen: bool = True, kw_only: bool = True) -> _RecordType:
        # kw_only is for mypy (records made in order are declared kw_only=False); __init__
        # takes either
        if "__slots__" in namespace:  # Record itself
            return super().__new__(mcs, name, bases, namespace)
        if any(getattr(base, "_fields", ()) for base in bases):
            raise TypeError(f"{name}: a record cannot extend another record's fields")
        fields = []
        for field_name, annotation in namespace.get("__annotations__", {}).items():
            if str(annotation).startswith("ClassVar"):
                continue
            value = namespace.pop(field_name, _MISSING)
            spec = value if isinstance(value, _Field) else _Field(value, _MISSING, True, True)
            fields.append((field_name, spec))
        namespace["__slots__"] = tuple(field_name for field_name, _ in fields)
        namespace["_fields"] = tuple(fields)
        namespace["_frozen"] = frozen
        return super().__new__(mcs, name, bases, namespace)


class Record(metaclass=_RecordType):
    __slots__ = ()
    _fields: ClassVar[tuple[tuple[str, _Field], ...]]
    _frozen: ClassVar[bool]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(self._fields):
            raise TypeError(f"{type(self).__name__}: {len(args)} values for {len(self._fields)} fields")
        for (name, _), value in zip(self._fields, args, strict=False):
            if name in kwargs:
                raise TypeError(f"{type(self).__name__}: {name} given twice")
            kwargs[name] = value
        for name, spec in self._fields:
            value = kwargs.pop(name, spec.default)
            if value is _MISSING:
                if spec.factory is _MISSING:
                    raise TypeError(f"{type(self).__name__}: missing {name}")
                value = spec.factory()
            object.__setattr__(self, name, value)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: no field {', '.join(kwargs)}")

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__}: cannot delete {name}")

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name, spec in self._fields if spec.compare)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        if not self._frozen:
            raise TypeError(f"unhashable type: {type(self).__name__!r}")
        return hash(self._compared())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name, spec in self._fields if spec.repr)
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:  # pickling, for worker processes
        return _rebuilt, (type(self), tuple(getattr(self, name) for name, _ in self._fields))


def _rebuilt(cls: type[Record], values: tuple[Any, ...]) -> Record:
    record = object.__new__(cls)
    for (name, _), value in zip(cls._fields, values, strict=True):
        object.__setattr__(record, name, value)
    return record


def replace(record: R, **changes: Any) -> R:
    """A copy of the record with some fields changed (dataclasses.replace)."""
    values = {name: getattr(record, name) for name, _ in record._fields}
    values.update(changes)
    return type(record)(**values)
