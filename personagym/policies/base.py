"""The assistant-policy protocol, the world knowledge policies may use, and the registry.

A policy sees only observations (the user's messages).  What it may know
about the world — which taxonomy entities a text mentions, how they relate,
which tags a constraint forbids, which phrases state a preference — comes
through a `Knowledge` object the env provides; the hidden truth reaches only
the oracle, through the env's `oracle_view`.  Policies import no simulator.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from personagym.suggest import did_you_mean

Observation = dict[str, Any]
#: What `act_batch` takes: one observation per env, or a vector env's batched observation (see `observation_list`).
Observations = Sequence[Observation] | Mapping[str, Any]


@runtime_checkable
class Policy(Protocol):
    """An assistant: maps the user's latest message (and its own memory) to a reply.

    Any class with these two methods is a policy; one that subclasses `Policy` need only write `act`, and
    inherits an `act_batch` that loops over it.  The built-in `act_batch`es take a vector env's batched
    observation too (`observation_list`).
    """

    def act(self, observation: Observation) -> str:
        """The reply to one observation."""
        ...

    def act_batch(self, observations: Observations) -> list[str]:
        """Replies to a batch of observations (one per env of a vector env), by default `act` on each."""
        return [self.act(obs) for obs in observation_list(observations)]


class Knowledge(Protocol):
    """World knowledge an assistant may use (never the user's hidden profile)."""

    def mentions(self, text: str) -> list[tuple[str, str]]:
        """(node id, stance) of taxonomy entities a text mentions."""
        ...

    def name(self, node: str) -> str:
        """Display name of a node."""
        ...

    def noun(self, node: str) -> str:
        """A node's name as a noun in running text, with "the" where it takes one ("the Cold War")."""
        ...

    @property
    def followed(self) -> frozenset[str]:
        """Nouns of the things one reads up on rather than enjoys: concerns, news stories, calamities of history."""
        ...

    def related(self, node: str) -> list[str]:
        """Nodes one would suggest for a request about `node` (children, else siblings)."""
        ...

    def category(self, node: str) -> str:
        """The node's top-level category id."""
        ...

    def tags(self, node: str) -> frozenset[str]:
        """Constraint tags of a node (e.g. animal_product)."""
        ...

    def forbidden_tags(self, attribute: str, value: str) -> frozenset[str]:
        """Tags an attribute value forbids (empty for non-constraints)."""
        ...

    def statements(self, text: str) -> list[tuple[str, str, int]]:
        """Preferences a user message states: (key, value, polarity).

        Key is 'likes'/'dislikes' (value a node id) or an attribute name.
        """
        ...

    def retractions(self, text: str) -> list[str]:
        """Nodes a user message takes back as said by mistake ("I meant Y, not X": X)."""
        ...

    def lost(self, text: str) -> list[str]:
        """Nodes a user message says the user no longer cares for ("I'm past X": X), among `retractions`."""
        ...

    def corrected(self, text: str) -> list[str]:
        """Likes a message taking back a slip names in its place with no words of liking ("Sorry, I meant Y, not
        X": Y), which take the slip's stance."""
        ...

    def random_nodes(self, draw: Callable[[int], int], k: int) -> list[str]:
        """`k` nodes chosen with `draw(n) -> index in [0, n)`."""
        ...


class BatchedPolicy:
    """Mixin: `act_batch` as a loop over `act` (for policies without batched inference)."""

    def act_batch(self, observations: Observations) -> list[str]:
        """Replies to each observation in order."""
        return [self.act(obs) for obs in observation_list(observations)]  # type: ignore[attr-defined]


def observation_list(observations: Observations) -> list[Observation]:
    """One observation per env: a sequence of observations as it is, or a vector env's batched one split up.

    Gymnasium's vector envs (and `PersonaChatVectorEnv`) batch a Dict
    observation as a dict of per-env columns (``{"message": (m0, m1),
    "turn": array([0, 3]), ...}``): looping over it would give its keys, a
    reply per key and not per env.
    """
    if not isinstance(observations, Mapping):
        return list(observations)
    if isinstance(observations.get("message"), str):
        raise TypeError("act_batch takes a batch (a list of observations, or a vector env's batched observation), "
                        "got a single observation; use act(observation)")
    columns = {key: list(column) for key, column in observations.items()}
    sizes = {key: len(column) for key, column in columns.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"a batched observation's columns must have one entry per env, got lengths {sizes}")
    n = next(iter(sizes.values()), 0)
    return [{key: _scalar(column[i]) for key, column in columns.items()} for i in range(n)]


def _scalar(value: Any) -> Any:
    """A numpy scalar of a batched column as the Python number a single env's observation holds."""
    return value.item() if isinstance(value, np.generic) else value


PolicyFactory = Callable[..., Policy]
_REGISTRY: dict[str, PolicyFactory] = {}


def register_policy(name: str, factory: PolicyFactory) -> None:
    """Make a policy constructible by name; the factory receives ``env=`` and ``seed=``."""
    _REGISTRY[name] = factory


def policy_names() -> list[str]:
    """Names of the registered policies."""
    return sorted(_REGISTRY)


def make_policy(name: str, env: Any = None, seed: int | None = None) -> Policy:
    """A policy by registered name or as ``module:Class``.

    A ``module:Class`` policy (``Class`` may be a dotted path inside the
    module, ``module:Outer.Inner``) is built with the keyword arguments its
    constructor accepts among ``env`` and ``seed``; a ``**kwargs``
    constructor accepts both.
    """
    if ":" in name:
        return _load_policy(name, env, seed)
    check_policy_name(name)
    return _REGISTRY[name](env=env, seed=seed)


def check_policy_name(name: str) -> None:
    """Raise a ValueError with a "did you mean" unless ``name`` is a registered policy or has the form of
    ``module:Class`` (which is imported, and its errors named, when the policy is built)."""
    if ":" not in name and name not in _REGISTRY:
        hint = did_you_mean(name, list(_REGISTRY))
        if not hint and "." in name:  # mypackage.policies.MyPolicy: a class is named after a colon
            hint = f" (did you mean {':'.join(name.rsplit('.', 1))!r}?)"
        raise ValueError(f"unknown policy {name!r}{hint}; "
                         f"expected one of {', '.join(policy_names())} or module:Class")


def _load_policy(name: str, env: Any, seed: int | None) -> Policy:
    """Import and build a ``module:Class`` policy; any failure is one error that names the policy."""
    module_name, _, path = name.partition(":")
    if not module_name or not path or module_name.startswith(".") or ":" in path:
        raise ValueError(f"cannot load policy {name!r}: expected module:Class, an absolute module name "
                         "and an attribute path (e.g. my_package.policies:MyPolicy)")
    try:
        cls: Any = importlib.import_module(module_name)
    except ImportError as exc:
        hint = "" if not isinstance(exc, ModuleNotFoundError) or exc.name != module_name.split(".")[0] else (
            f" (the module must be importable: run from the folder that holds {module_name.split('.')[0]}.py, "
            "or add that folder to PYTHONPATH)")
        raise ValueError(f"cannot load policy {name!r}: {exc}{hint}") from None
    except Exception as exc:  # the module is the user's code: whatever it raises at import is a load failure
        raise ValueError(f"cannot load policy {name!r}: importing {module_name} raised "
                         f"{type(exc).__name__}: {exc}") from exc
    for i, attr in enumerate(path.split(".")):
        try:
            cls = getattr(cls, attr)
        except AttributeError:
            where = ".".join([module_name, *path.split(".")[:i]])
            public = [n for n in dir(cls) if not n.startswith("_")]
            raise ValueError(f"cannot load policy {name!r}: {where!r} has no attribute {attr!r}"
                             f"{did_you_mean(attr, public)}") from None
    if not callable(cls):
        kind = type(cls).__name__
        raise TypeError(f"policy {name!r} is {'an' if kind[0] in 'aeiou' else 'a'} {kind}; expected a class (or a "
                        "factory) whose instances have act(observation)")
    protocol = getattr(cls, "_is_protocol", False)
    if protocol or inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ()))) or "act"
        raise TypeError(f"policy {name!r} is {'a protocol' if protocol else 'abstract'} (it leaves {missing} to a "
                        "subclass); give a class of yours that implements it")
    try:
        signature: inspect.Signature | None = _constructor_signature(cls)
    except ValueError:  # a builtin type has no signature: it is built with no arguments
        signature = None
    parameters = signature.parameters if signature is not None else {}
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    kwargs = {k: v for k, v in (("env", env), ("seed", seed)) if open_ended or k in parameters}
    if signature is not None:
        try:
            signature.bind(**kwargs)
        except TypeError as exc:
            given = ", ".join(f"{k}=" for k in kwargs) or "no arguments"
            raise TypeError(f"cannot build policy {name!r} with {given}: {exc}; a module:Class policy "
                            "takes only env= and/or seed= (both optional)") from None
    policy = cls(**kwargs)
    if not callable(getattr(policy, "act", None)):
        raise TypeError(f"policy {name!r} has no act(observation) method")
    if not callable(getattr(policy, "act_batch", None)):
        raise TypeError(f"policy {name!r} has no act_batch(observations) method; subclass "
                        "personagym.policies.Policy to inherit one that calls act on each observation")
    return policy


def _constructor_signature(cls: Any) -> inspect.Signature:
    """How `cls` is called.  A class that subclasses the `Policy` protocol without an `__init__` of its own
    shows typing's placeholder, ``(*args, **kwargs)``, which passes them on to ``object.__init__``: it takes
    no arguments."""
    if isinstance(cls, type) and Policy in cls.__mro__:
        owner = next(c for c in cls.__mro__ if "__init__" in vars(c) and not getattr(c, "_is_protocol", False))
        if owner is object:
            return inspect.Signature()
    return inspect.signature(cls)
