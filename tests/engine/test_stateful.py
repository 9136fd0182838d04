"""Hypothesis drives the terminal against a real host through a fault-injecting proxy.

Random sequences of sales, voids, refunds, restarts, settlements and link faults (answers
dropped, connections cut, garbage, forged MACs, host unreachable), with invariants checked
after every step:

* no two approved journal entries share a STAN within a batch;
* once an operation has run on a healthy link, nothing is left in flight: the SAF queue is
  empty and no entry is CREATED, SENT or TIMED_OUT (every timed-out one ended REVERSED);
* on a healthy link the journal and the host's ledger agree on every transaction, so
  settlement balances without a batch upload.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from iso8583.acquirer.model import TxnKind
from iso8583.host import EmbeddedHost, Status, rules_from_mapping
from terminal.core.journal import JournalQuery, TxnState
from terminal.engine import CardInput, HostFailureError, NotAllowedError, TerminalService
from terminal.store import TerminalStore

from .conftest import fast_config
from .proxy import MODES, FaultProxy

RULES = rules_from_mapping({"late_delay": 0.5, "mpm_pay_delay": 0.1})
CARDS = ("visa-approve", "mc-approve", "visa-decline")
IN_FLIGHT = (TxnState.CREATED, TxnState.SENT, TxnState.TIMED_OUT)
HOST_STATUS = {
    TxnState.APPROVED: Status.APPROVED,
    TxnState.VOIDED: Status.VOIDED,
}


class TerminalMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory()
        self.host = EmbeddedHost("iso87ascii", RULES)
        self.host.start()
        self.store = TerminalStore(Path(self.tmp.name) / "terminal")
        self.proxy = FaultProxy(self.host.address, self.host.spec)
        self.run(self.proxy.start())
        config = fast_config(
            self.proxy.url, response_timeout=0.1, connect_timeout=0.2, reversal_attempts=2
        )
        self.service = TerminalService(config, self.store)
        self.run(self.service.start())
        self.mode = "pass"
        self.clean = True  # an operation has run since the link was last healthy

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.service.stop())
        self.run(self.proxy.stop())
        self.host.stop()
        self.store.close()
        self.loop.close()
        self.tmp.cleanup()

    def _operation(self, coro) -> None:
        try:
            self.run(coro)
        except HostFailureError:
            assert self.mode != "pass", "a healthy link must deliver and answer"
        except NotAllowedError:
            pass
        self.clean = self.mode == "pass"

    def _entries(self):
        return self.store.journal.find(JournalQuery(limit=10_000))

    # --- rules --------------------------------------------------------------------------
    @rule(mode=st.sampled_from(MODES))
    def fault(self, mode: str) -> None:
        self.run(self.proxy.set_mode(mode))
        self.mode = mode
        self.clean = False

    @rule(cents=st.sampled_from([0, 0, 5, 51, 68]), card=st.sampled_from(CARDS))
    def sale(self, cents: int, card: str) -> None:
        self._operation(self.service.sale(1000 + cents, CardInput.test_card(card)))

    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        batch = self.store.counters.batch()
        approved = [
            e
            for e in self._entries()
            if e.state is TxnState.APPROVED and e.kind is TxnKind.SALE and e.batch == batch
        ]
        if approved:
            target = data.draw(st.sampled_from(approved))
            self._operation(self.service.void(target.id))

    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        approved = [
            e for e in self._entries() if e.state is TxnState.APPROVED and e.kind is TxnKind.SALE
        ]
        if approved:
            target = data.draw(st.sampled_from(approved))
            self._operation(self.service.refund(target.id, 100))

    @rule()
    def restart(self) -> None:
        self.run(self.service.stop())
        self.run(self.service.start())
        self.clean = self.mode == "pass" and self.store.saf.pending() == []

    @rule()
    def heal(self) -> None:
        self.run(self.proxy.set_mode("pass"))
        self.mode = "pass"
        assert self.run(self.service.deliver_pending()) == 0
        self.clean = True

    @precondition(lambda self: self.mode == "pass")
    @rule()
    def settle(self) -> None:
        result = self.run(self.service.settle())
        assert result.approved, result.response_code
        assert result.uploaded == 0, "journal and host ledger disagreed"
        self.clean = True

    # --- invariants ---------------------------------------------------------------------
    @invariant()
    def approved_stans_are_unique_per_batch(self) -> None:
        keys = Counter((e.batch, e.stan) for e in self._entries() if e.state is TxnState.APPROVED)
        assert all(n == 1 for n in keys.values())

    @invariant()
    def nothing_in_flight_when_healthy(self) -> None:
        if not self.clean:
            return
        assert self.store.saf.pending() == []
        stuck = [(e.id, e.state.value) for e in self._entries() if e.state in IN_FLIGHT]
        assert stuck == []

    @invariant()
    def journal_agrees_with_host_when_healthy(self) -> None:
        if not self.clean:
            return
        ledger = {(e.batch, e.stan, e.kind): e for e in self.host.ledger.entries()}
        for entry in self._entries():
            host_entry = ledger.get((entry.batch, entry.stan, entry.kind))
            if entry.state in HOST_STATUS:
                assert host_entry is not None, (entry.id, entry.state)
                assert host_entry.status is HOST_STATUS[entry.state], (entry.id, entry.state)
            elif host_entry is not None:  # declined, failed or reversed: not live at the host
                assert host_entry.status is Status.REVERSED, (entry.id, entry.state)


TerminalMachine.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
test_terminal_machine = TerminalMachine.TestCase
