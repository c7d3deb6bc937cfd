"""One spec's models on the stream: every candidate predicts, is scored, then learns.

The champion is the candidate the API serves. Challengers learn the same events; one that beats
the champion on the selection metric by the spec's margin, on enough consecutive events, is
promoted. Each candidate's metrics are exactly River's progressive validation of that candidate
alone: candidates never share state, they only see the same features.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from learner.models import METRICS, build_detector, build_model
from learner.scoring import ForecastBoard, Prediction, Scoreboard, finite, predictor
from streamwise import snapshot
from streamwise.errors import SpecMismatch
from streamwise.events import Label, Reading
from streamwise.features import target_of
from streamwise.prepare import Preparer
from streamwise.spec import ModelSpec

#: Lifecycle events (promotions, drifts, rollbacks) kept in each snapshot, newest last.
LIFECYCLE_KEPT = 50
_HASH_RANGE = 1 << 32


def holdout_hash(event_id: str) -> int:
    """A stable hash of an event id (Python's ``hash`` of a str changes per process)."""
    return zlib.crc32(event_id.encode())


class Candidate:
    """A live candidate: its snapshot state plus the bound predict and learn calls."""

    __slots__ = ("state", "board", "holdout", "predict", "learn")

    def __init__(self, spec: ModelSpec, state: snapshot.CandidateState) -> None:
        self.state = state
        self.board: Scoreboard | ForecastBoard = (
            ForecastBoard(spec, state.metrics)
            if spec.forecast is not None
            else Scoreboard(spec, state.metrics, state.rolling_metrics)
        )
        self.holdout: Scoreboard | None = None
        if spec.holdout:
            if not state.holdout_metrics:
                board = Scoreboard(spec)
                state.holdout_metrics, state.holdout_rolling = board.cumulative, board.rolling
            self.holdout = Scoreboard(spec, state.holdout_metrics, state.holdout_rolling)
        if spec.forecast is not None:
            self.predict = _no_prediction
            self.learn = _forecaster(state.model)
        else:
            self.predict = predictor(state.model, self.board, spec.threshold)  # type: ignore[arg-type]
            self.learn = (
                state.model.learn_one if spec.task != "anomaly" else _unsupervised(state.model)
            )

    @classmethod
    def fresh(cls, spec: ModelSpec, name: str, started_at: int = 0) -> Candidate:
        """Untrained, rebuilt from the spec (never copied from a trained model)."""
        board = ForecastBoard(spec) if spec.forecast is not None else Scoreboard(spec)
        state = snapshot.CandidateState(
            name=name,
            model=build_model(spec, name),
            metrics=board.cumulative,
            rolling_metrics=board.rolling,
            metric_values={},
            detector=build_detector(spec.drift) if spec.drift is not None else None,
            started_at=started_at,
        )
        return cls(spec, state)

    @property
    def name(self) -> str:
        return self.state.name

    def values(self) -> dict[str, dict[str, float | None]]:
        """Cumulative and rolling progressive metrics, plus ``holdout`` when the spec has one."""
        values = self.board.values()
        if self.holdout is not None:
            holdout = self.holdout.values()
            values["holdout"], values["holdout_rolling"] = holdout["cumulative"], holdout["rolling"]
        return values

    def to_state(self) -> snapshot.CandidateState:
        self.state.metric_values = self.values()
        return self.state


def _no_prediction(x: dict[str, Any]) -> Prediction:
    return None, None  # a forecaster is asked for the next steps, not about one reading


def _forecaster(model: Any) -> Any:
    learn_one = model.learn_one

    def learn(x: dict[str, Any], y: Any) -> None:
        learn_one(y=y, x=x)  # River's forecasters learn the value, with optional features

    return learn


def _unsupervised(model: Any) -> Any:
    learn_one = model.learn_one

    def learn(x: dict[str, Any], y: Any) -> None:
        learn_one(x)  # a detector learns what normal looks like: the label only scores it

    return learn


def model_error(regression: bool, y: Any, prediction: Prediction) -> float | None:
    """What a drift detector watches: 0/1 misclassification, or the absolute error."""
    label, proba = prediction
    if regression:
        return abs(y - label) if label is not None else None
    if label is None and proba:
        label = max(proba, key=proba.get)
    return None if label is None else float(label != y)


@dataclass
class ModelSlot:
    """Everything one spec's models learn from the stream; all of it goes into its snapshot."""

    spec: ModelSpec
    candidates: dict[str, Candidate]
    champion: str
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    version: int | None = None
    events_seen: int = 0
    events_learned: int = 0
    events_rejected: int = 0
    last_event_ts: float | None = None
    preparer: Preparer | None = None
    events_held_out: int = 0
    lifecycle: list[dict[str, Any]] = field(default_factory=list)
    #: Running totals for Prometheus: "promotions:<reason>", "drifts:<candidate>".
    counts: dict[str, int] = field(default_factory=dict)
    #: A promotion decided while learning, applied by the learner between two snapshots.
    promotion: tuple[str, str] | None = None
    #: Readings with no label and nothing waiting for one; readings waiting for a label.
    events_unlabelled: int = 0
    events_awaiting: int = 0
    #: Lifecycle events not logged yet (the learner logs and clears them; not in snapshots).
    new_events: list[dict[str, Any]] = field(default_factory=list)
    #: Forecasting: the last ``horizon`` (x, y) of the series, not yet learned.
    series: deque[tuple[dict[str, Any], Any]] | None = None
    #: Readings waiting for a delayed label: event id -> (event time, x, predictions asked).
    pending: OrderedDict[str, tuple[float, dict[str, Any], dict[str, Any]]] | None = None

    def __post_init__(self) -> None:
        if self.preparer is None:
            self.preparer = Preparer(self.spec)
        self._regression = self.spec.task == "regression"
        metric = self.spec.selection_metric
        self._selection_metric = metric
        self._bigger_is_better = METRICS[metric]().bigger_is_better
        self._compete = len(self.candidates) > 1
        self._order = list(self.candidates.values())
        self._holdout_below = int(self.spec.holdout * _HASH_RANGE)
        self._unsupervised = self.spec.task == "anomaly"
        forecast = self.spec.forecast
        # Forecasts are compared on their cumulative score, once past River's warm-up.
        self._warm_up = self.spec.rolling_window if forecast is None else 2 * forecast.horizon
        if self.series is None and forecast is not None:
            self.series = deque()
        if self.pending is None and self.spec.delayed_labels is not None:
            self.pending = OrderedDict()

    # -- building --------------------------------------------------------------------------
    @classmethod
    def fresh(cls, spec: ModelSpec) -> ModelSlot:
        """Every candidate untrained; the first one is the champion."""
        candidates = {c.name: Candidate.fresh(spec, c.name) for c in spec.candidates}
        return cls(spec, candidates, spec.champion)

    @classmethod
    def restore(cls, spec: ModelSpec, snap: snapshot.Snapshot) -> ModelSlot:
        """Continue from a snapshot trained from this very spec."""
        check_spec(spec, snap)
        return cls(
            spec,
            {name: Candidate(spec, state) for name, state in snap.candidates.items()},
            snap.champion,
            next_offsets=dict(snap.next_offsets),
            version=snap.version,
            events_seen=snap.events_seen,
            events_learned=snap.events_learned,
            events_rejected=snap.events_rejected,
            events_held_out=snap.events_held_out,
            last_event_ts=snap.last_event_ts,
            preparer=Preparer(spec, snap.prepare_state),
            lifecycle=list(snap.lifecycle),
            counts=dict(snap.lifecycle_counts),
            promotion=snap.pending_promotion,
            events_unlabelled=snap.events_unlabelled,
            events_awaiting=snap.events_awaiting,
            pending=OrderedDict(snap.pending_labels) if spec.delayed_labels else None,
            series=deque(snap.series) if spec.forecast is not None else None,
        )

    @property
    def model(self) -> Any:
        """The champion's model: the one the API serves."""
        return self.candidates[self.champion].state.model

    @property
    def board(self) -> Scoreboard:
        """The champion's metrics."""
        return self.candidates[self.champion].board

    # -- learning --------------------------------------------------------------------------
    def observe(self, reading: Reading) -> bool:
        """Predict, score, learn, in River's progressive-validation order. True if learned."""
        assert self.preparer is not None
        if self.series is not None:
            return self._observe_series(reading)
        prepared = self.preparer.prepare(reading)  # both raise InvalidEvent before any change
        y = target_of(reading, self.spec)
        x = prepared.x
        # 1. predict with every candidate: the label is not used yet
        predictions: list[tuple[Candidate, Prediction | None]] = [
            (c, c.predict(x)) for c in self._order
        ]
        self.events_seen += 1
        self.last_event_ts = prepared.ts
        learned = False
        if y is not None:
            learned = self._settle(reading.event_id, x, y, predictions, prepared.ts)
        elif self._unsupervised:
            for candidate, _ in predictions:
                candidate.learn(x, None)
                candidate.state.events_learned += 1
            self.events_learned += 1
            learned = True
        elif self.pending is not None:
            self._wait_for_label(reading.event_id, x, predictions, prepared.ts)
            self.events_awaiting += 1
        else:
            self.events_unlabelled += 1
        self.preparer.commit(prepared)  # only now does the reading join the per-device state
        return learned

    def _observe_series(self, reading: Reading) -> bool:
        """One value of the forecast series, scored as River's ``evaluate.iter_evaluate`` does.

        River scores a forecast made by a model that has learned up to ``y[k-1]`` against
        ``y[k+1 .. k+h]``, then learns ``y[k]``: so the value ``h`` readings back is learned
        once ``h`` more are known, and the forecast is scored against those.
        """
        assert self.spec.forecast is not None and self.series is not None
        assert self.preparer is not None
        wanted = self.spec.forecast.device_id
        if wanted is not None and reading.device_id != wanted:
            return False  # another series: not this model's business
        prepared = self.preparer.prepare(reading)
        y = target_of(reading, self.spec)
        self.events_seen += 1
        self.last_event_ts = prepared.ts
        self.preparer.commit(prepared)
        if y is None:
            self.events_unlabelled += 1
            return False
        horizon = self.spec.forecast.horizon
        self.series.append((prepared.x, y))
        if len(self.series) <= horizon:
            return False
        x_now, y_now = self.series.popleft()
        xs = [x for x, _ in self.series]
        ys = [y for _, y in self.series]
        for candidate in self._order:
            if candidate.state.events_learned >= horizon:  # River's first h steps only learn
                forecast = candidate.state.model.forecast(horizon, xs=xs)
                candidate.board.update(ys, forecast)  # type: ignore[arg-type]
            candidate.learn(x_now, y_now)
            candidate.state.events_learned += 1
        self.events_learned += 1
        if self._compete:
            self._compare(prepared.ts)
        return True

    def _settle(
        self,
        event_id: str,
        x: dict[str, Any],
        y: Any,
        predictions: list[tuple[Candidate, Prediction | None]],
        ts: float,
    ) -> bool:
        """Score each candidate's prediction, then learn (or only score, if held out)."""
        if self._holdout_below and holdout_hash(event_id) < self._holdout_below:
            for candidate, prediction in predictions:
                if prediction is not None:
                    candidate.holdout.update(y, prediction)  # type: ignore[union-attr]
            self.events_held_out += 1
            return False
        for candidate, prediction in predictions:
            if prediction is not None:  # None: the candidate started after it was asked
                candidate.board.update(y, prediction)  # 2. score
            candidate.learn(x, y)  # 3. learn, always last
            candidate.state.events_learned += 1
        self.events_learned += 1
        if self.spec.drift is not None:
            self._watch_drift(y, predictions, ts)
        if self._compete:
            self._compare(ts)
        return True

    # -- delayed labels --------------------------------------------------------------------
    def _wait_for_label(
        self,
        event_id: str,
        x: dict[str, Any],
        predictions: list[tuple[Candidate, Prediction | None]],
        ts: float,
    ) -> None:
        assert self.pending is not None and self.spec.delayed_labels is not None
        if event_id in self.pending:
            return  # the first question stands; a label answers it once
        self.pending[event_id] = (
            ts,
            x,
            {c.name: (c.state.started_at, p) for c, p in predictions},
        )
        self._expire(ts)
        while len(self.pending) > self.spec.delayed_labels.max_pending:
            self.pending.popitem(last=False)
            self._count("labels:evicted")

    def ask(self, event_id: str, x: dict[str, Any], ts: float) -> None:
        """A prediction the API served: every candidate predicts it now, then waits for feedback.

        The API's features are used as they are (they came from a snapshot of this model's
        per-device state); the reading is not part of the stream, so no state changes.
        """
        if self.pending is None:
            return
        self._wait_for_label(event_id, x, [(c, c.predict(x)) for c in self._order], ts)

    def _expire(self, now_ts: float) -> None:
        assert self.pending is not None and self.spec.delayed_labels is not None
        horizon = now_ts - self.spec.delayed_labels.ttl_seconds
        while self.pending:
            first_ts = next(iter(self.pending.values()))[0]
            if first_ts >= horizon:
                break
            self.pending.popitem(last=False)
            self._count("labels:expired")

    def answers(self, label: Label) -> bool:
        """Whether this model waits for labels of ``label``'s target."""
        return self.pending is not None and label.target == self.spec.target

    def answer(self, label: Label) -> float | None:
        """Score and learn the reading ``label`` answers; its delay in seconds, or None."""
        assert self.pending is not None
        label_ts = label.ts.timestamp()
        entry = self.pending.pop(label.ref_event_id, None)
        if entry is None:
            self._count("labels:unknown")  # never asked, already answered, or expired
            self._expire(label_ts)
            return None
        ts, x, asked = entry
        y = label.value
        if self._regression and type(y) in (str, bool):
            self._count("labels:invalid")
            return None
        predictions: list[tuple[Candidate, Prediction | None]] = []
        for candidate in self._order:
            started_at, prediction = asked.get(candidate.name, (None, None))
            same = started_at == candidate.state.started_at  # not reset since it was asked
            predictions.append((candidate, prediction if same else None))
        self._settle(label.ref_event_id, x, y, predictions, label_ts)
        self._count("labels:matched")
        self._expire(label_ts)
        return label_ts - ts

    def _watch_drift(
        self, y: Any, predictions: list[tuple[Candidate, Prediction | None]], ts: float
    ) -> None:
        assert self.spec.drift is not None
        reset = False
        for candidate, prediction in predictions:
            if prediction is None:
                continue
            error = model_error(self._regression, y, prediction)
            detector = candidate.state.detector
            if error is None or detector is None:
                continue
            before = getattr(detector, "estimation", None)
            detector.update(error)
            if not detector.drift_detected:
                continue
            # ADWIN also fires when a model gets better; only a worse error calls for action.
            after = getattr(detector, "estimation", None)
            worse = before is None or after is None or after > before
            candidate.state.drifts += 1
            self._count(f"drifts:{candidate.name}")
            champion = candidate.name == self.champion
            reaction = self.spec.drift.reaction if champion and worse else "none"
            self._record(
                "drift",
                ts,
                candidate=candidate.name,
                champion=champion,
                error="worse" if worse else "better",
                reaction=reaction,
            )
            reset = reset or reaction == "reset_challengers"
        if reset:
            self._reset_challengers()

    def _reset_challengers(self) -> None:
        for name in list(self.candidates):
            if name != self.champion:
                old = self.candidates[name].state
                fresh = Candidate.fresh(self.spec, name, started_at=self.events_learned)
                fresh.state.drifts = old.drifts
                self.candidates[name] = fresh
        self._order = list(self.candidates.values())
        self.promotion = None  # the challenger it named is gone

    def _compare(self, ts: float) -> None:
        """Count how long each challenger has been ahead; flag the first that has been enough."""
        metric, selection = self._selection_metric, self.spec.selection
        champion_value = self.candidates[self.champion].board.selection_value(metric)
        for candidate in self._order:
            state = candidate.state
            if candidate.name == self.champion:
                continue
            if state.events_learned < self._warm_up:
                state.ahead = 0  # a rolling window not yet full compares too few events
                continue
            value = candidate.board.selection_value(metric)
            gain = value - champion_value if self._bigger_is_better else champion_value - value
            state.ahead = state.ahead + 1 if gain > selection.margin else 0
            if selection.auto and self.promotion is None and state.ahead >= selection.min_events:
                self.promotion = ("auto", candidate.name)

    # -- lifecycle -------------------------------------------------------------------------
    def promote(
        self,
        name: str,
        reason: str,
        ts: float | None,
        previous_version: int | None,
        **detail: Any,
    ) -> None:
        """Make ``name`` the champion; ``previous_version`` is what a rollback returns to."""
        candidate = self.candidates[name]
        metric = self._selection_metric
        self._record(
            "promotion",
            ts,
            reason=reason,
            previous=self.champion,
            candidate=name,
            previous_version=previous_version,
            metric=metric,
            champion_value=finite(self.board.selection_value(metric)),
            candidate_value=finite(candidate.board.selection_value(metric)),
            **detail,
        )
        self.champion = name
        self._count(f"promotions:{reason}")
        for other in self._order:
            other.state.ahead = 0
        self.promotion = None

    def roll_back(self, snap: snapshot.Snapshot, ts: float | None, **detail: Any) -> None:
        """Return every candidate and the champion to a former version; the stream goes on.

        Offsets, counters and per-device features stay where the stream is: a rollback changes
        which models learn from here, not what has been read.
        """
        check_spec(self.spec, snap)
        self._record(
            "rollback",
            ts,
            to_version=snap.version,
            from_version=self.version,
            previous=self.champion,
            candidate=snap.champion,
            **detail,
        )
        self.candidates = {n: Candidate(self.spec, s) for n, s in snap.candidates.items()}
        self.champion = snap.champion
        self._order = list(self.candidates.values())
        for candidate in self._order:
            candidate.state.ahead = 0
        self._count("rollbacks")
        self.promotion = None

    def refuse(self, action: str, reason: str, **detail: Any) -> None:
        """Note a command that could not be applied, so whoever sent it can see why."""
        self._record("refused", self.last_event_ts, action=action, reason=reason, **detail)

    def version_before_last_promotion(self) -> int | None:
        """The version a plain rollback returns to (saved and kept just before promoting)."""
        for event in reversed(self.lifecycle):
            if event["kind"] == "promotion":
                return event["previous_version"]  # type: ignore[no-any-return]
        return None

    def _record(self, kind: str, ts: float | None, **detail: Any) -> None:
        event = {"kind": kind, "at_event": self.events_learned, "event_ts": ts, **detail}
        self.lifecycle = [*self.lifecycle[-(LIFECYCLE_KEPT - 1) :], event]
        self.new_events.append(event)

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def to_snapshot(self, version: int, created_at: float) -> snapshot.Snapshot:
        champion = self.candidates[self.champion]
        candidates = {name: c.to_state() for name, c in self.candidates.items()}
        return snapshot.Snapshot(
            model_id=self.spec.model_id,
            spec_digest=self.spec.digest(),
            version=version,
            created_at=created_at,
            model=champion.state.model,
            metrics=champion.board.cumulative,
            rolling_metrics=champion.board.rolling,
            metric_values=candidates[self.champion].metric_values,
            next_offsets=dict(self.next_offsets),
            events_seen=self.events_seen,
            events_learned=self.events_learned,
            events_rejected=self.events_rejected,
            events_held_out=self.events_held_out,
            last_event_ts=self.last_event_ts,
            prepare_state=self.preparer.state() if self.preparer is not None else {},
            champion=self.champion,
            candidates=candidates,
            lifecycle=list(self.lifecycle),
            lifecycle_counts=dict(self.counts),
            pending_promotion=self.promotion,
            events_unlabelled=self.events_unlabelled,
            events_awaiting=self.events_awaiting,
            pending_labels=list(self.pending.items()) if self.pending is not None else [],
            series=list(self.series) if self.series is not None else [],
        )


def check_spec(spec: ModelSpec, snap: snapshot.Snapshot) -> None:
    """Refuse a snapshot trained from another spec."""
    if snap.spec_digest != spec.digest():
        raise SpecMismatch(
            f"snapshot v{snap.version} of {spec.model_id!r} was trained from spec "
            f"{snap.spec_digest}, the given spec is {spec.digest()}: give the changed spec a "
            "new model_id, or delete the old snapshots to start over"
        )
