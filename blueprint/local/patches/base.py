"""What every patch shares: the Patch record, the one way to swap a moto attribute, and the models' interface.

Importing this module (or any patch module) changes nothing in moto: `wrap` and `add_model` do, and
only a patch's install calls them, so only `blueprint.local.patches.apply()` does.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

log = logging.getLogger(__name__)

_ABSENT = object()
# (owner, attribute) -> what stood there before the wrapper (_ABSENT when moto had nothing).
WRAPPED: dict[tuple[Any, str], Any] = {}
# CloudFormation type -> the model class installed for it. Holding the class also keeps it alive:
# moto finds models through CloudFormationModel.__subclasses__(), which holds them only weakly.
MODELS: dict[str, type] = {}


@dataclass(frozen=True)
class Patch:
    """One gap of moto closed: its name, the moto service it belongs to, and the function that installs it."""

    name: str
    service: str
    install: Callable[[], None]

    @property
    def gap(self) -> str:
        """What moto does wrong and what the patch does (the install function's docstring)."""
        return inspect.getdoc(self.install) or ""


def patch(install: Callable[[], None]) -> Patch:
    """Make an install function a Patch, named after the function, of the service its module is named after."""
    return Patch(install.__name__, install.__module__.rsplit(".", 1)[-1], install)


def wrap(owner: Any, attribute: str, make: Callable[[Any], Any]) -> None:
    """Set `owner.attribute` to `make(original)`, the one wrapper that attribute gets.

    `original` is what moto has there (the function under a classmethod, which is re-applied; None when
    moto has nothing). A second wrapper of the same attribute is refused: two patches each wrapping a
    method would make the result depend on the order they are installed in.
    """
    key = (owner, attribute)
    if key in WRAPPED:
        raise RuntimeError(f"{getattr(owner, '__name__', owner)}.{attribute} is wrapped already: "
                           "fold the second change into its one wrapper")
    original = inspect.getattr_static(owner, attribute, _ABSENT)
    is_classmethod = isinstance(original, classmethod)
    inner = original.__func__ if is_classmethod else (None if original is _ABSENT else original)
    replacement = make(inner)
    # Not from an abstract stub: its __isabstractmethod__ would tell moto there is no implementation.
    if inspect.isfunction(inner) and inspect.isfunction(replacement) and not hasattr(inner, "__isabstractmethod__"):
        functools.update_wrapper(replacement, inner)
    setattr(owner, attribute, classmethod(replacement) if is_classmethod else replacement)
    WRAPPED[key] = original


def add_model(behaviour: type) -> type:
    """Install a model for `behaviour.TYPE`: a direct CloudFormationModel subclass (the only kind moto looks
    for), created here rather than at import so that defining a model class registers nothing."""
    if behaviour.TYPE in MODELS:
        raise RuntimeError(f"a model for {behaviour.TYPE} is installed already")
    model = type(behaviour.__name__, (behaviour, CloudFormationModel),
                 {"__module__": behaviour.__module__, "__qualname__": behaviour.__qualname__})
    MODELS[behaviour.TYPE] = model
    # moto caches its type -> model map.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    return model


def ignore_gone(call: Callable[..., Any], *args: Any) -> None:
    """Call a backend's delete; a resource (or its API) that is gone already is what the delete wanted."""
    with contextlib.suppress(Exception):
        call(*args)


def tags_dict(tags: Any) -> dict[str, str]:
    """CloudFormation's [{Key, Value}] (or a map, as API Gateway's CFN types sometimes take) -> dict."""
    if not tags:
        return {}
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {t["Key"]: t["Value"] for t in tags}


def flag(value: Any, default: bool = False) -> bool:
    """A template boolean: true, "true" and "True" are all true (parameters arrive as strings)."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


class Model:
    """The CloudFormation interface every model of this package shares; `add_model` mixes it into moto.

    A model sets `physical_resource_id` (its Ref) and `attr_<Name>` for each name in ATTRS (its GetAtts),
    and implements `create` and `delete`. Without an `update` of its own, an update replaces it.
    """

    TYPE = ""
    NAME_PROPERTY = ""  # the property moto takes the physical name from; "" for a generated one
    ATTRS: tuple[str, ...] = ()
    physical_resource_id: str

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRS

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.ATTRS:
            return getattr(self, "attr_" + attribute_name)
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> Model:
        return cls.create(cloudformation_json["Properties"], resource_name, account_id, region_name, **kwargs)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> Model:
        return cls.update(original_resource, cloudformation_json["Properties"], new_resource_name,
                          account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        return None

    @classmethod
    def create(cls, props: dict[str, Any], name: str, account_id: str, region_name: str, **kwargs: Any) -> Model:
        raise NotImplementedError

    @classmethod
    def update(cls, original: Any, props: dict[str, Any], name: str, account_id: str, region_name: str) -> Model:
        return cls.replace(original, props, name, account_id, region_name)

    @classmethod
    def replace(cls, original: Any, props: dict[str, Any], name: str, account_id: str, region_name: str) -> Model:
        """What CloudFormation does for a change it cannot make in place: delete the old one, create anew."""
        original.delete(account_id, region_name)
        return cls.create(props, name, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        raise NotImplementedError
