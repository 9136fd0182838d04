"""The footer of keys, built once per screen instead of on every change of the screen stack.

Textual's :class:`~textual.widgets.Footer` throws its keys away and mounts new ones each time
the screen's bindings *may* have changed: every push, pop or switch of any screen, every
focus change; and its keys first mount "compact", then are restyled twice when they learn
the footer is not. On a POS that changes screens three times per sale, this was the largest
single cost between Enter on the card and the result on screen. This footer shows the same
keys the same way, but composes them with the screen (so they are in its first frame),
mounts them in their final style, and recomposes only when what it shows really changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from itertools import groupby
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

if TYPE_CHECKING:
    from textual.screen import Screen

__all__ = ["PosFooter"]


class _Key(FooterKey):
    """A footer key created in the footer's style (no restyle after mounting)."""

    def __init__(self, *args: Any, compact: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_reactive(FooterKey.compact, compact)
        self.set_class(compact, "-compact", update=False)


class PosFooter(Footer):
    """Footer showing the keys of the screen it is on; see the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(Footer._bindings_ready, True)
        self._shown_keys: Hashable = None

    def _keys_to_show(self) -> tuple[list[list[tuple[Binding, bool, str]]], tuple[Any, ...] | None]:
        """The keys to show, grouped by action, and the command palette key (or None)."""
        active_bindings = self.screen.active_bindings
        by_action: defaultdict[str, list[tuple[Binding, bool, str]]] = defaultdict(list)
        for _node, binding, enabled, tooltip in active_bindings.values():
            if binding.show:
                by_action[binding.action].append((binding, enabled, tooltip))
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        return list(by_action.values()), palette

    def _signature(self) -> Hashable:
        """Everything the composed keys depend on: equal signatures draw equal footers."""
        groups, palette = self._keys_to_show()
        display = self.app.get_key_display
        keys = tuple(
            (b.key, display(b), b.description, b.action, b.group, enabled, tooltip)
            for group in groups
            for b, enabled, tooltip in group
        )
        extra = None
        if palette is not None:
            _node, b, enabled, tooltip = palette
            extra = (b.key, display(b), b.description, b.action, enabled, tooltip, b.tooltip)
        return keys, extra, self.combine_groups

    def compose(self) -> ComposeResult:
        # The layout of textual.widgets.Footer.compose (Textual 8), keys built by _Key.
        self._shown_keys = self._signature()
        groups, palette = self._keys_to_show()
        compact = self.compact
        self.styles.grid_size_columns = len(groups)
        for group, grouped_iter in groupby(groups, lambda multi: multi[0][0].group):
            grouped = list(grouped_iter)
            if group is not None and len(grouped) > 1:
                with KeyGroup(classes="-compact" if group.compact else ""):
                    for multi in grouped:
                        binding, enabled, tooltip = multi[0]
                        yield _Key(
                            binding.key,
                            self.app.get_key_display(binding),
                            "",
                            binding.action,
                            disabled=not enabled,
                            tooltip=tooltip or binding.description,
                            classes="-grouped",
                            compact=compact,
                        ).data_bind(compact=Footer.compact)
                yield FooterLabel(group.description)
            else:
                for multi in grouped:
                    binding, enabled, tooltip = multi[0]
                    yield _Key(
                        binding.key,
                        self.app.get_key_display(binding),
                        binding.description,
                        binding.action,
                        disabled=not enabled,
                        tooltip=tooltip,
                        compact=compact,
                    ).data_bind(compact=Footer.compact)
        if palette is not None:
            _node, binding, enabled, tooltip = palette
            yield _Key(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
                compact=True,  # as Textual's: not bound to the footer's compact
            )

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not screen.is_current:
            return  # hidden: checked again when the screen comes back on top
        if self._signature() != self._shown_keys:
            self.call_after_refresh(self.recompose)
