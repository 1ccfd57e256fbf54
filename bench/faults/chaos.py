"""The chaos plan: which fault happens when, as a fraction of the load, in a seeded random
order. Faults run one after another on their own thread while the load goes on."""

import random
import threading
import time
from dataclasses import dataclass


@dataclass
class Fault:
    at: float  # fraction of the planned requests sent when it fires
    kind: str
    target: str = ""
    done_at: float | None = None
    detail: str = ""


def chaos_plan(*, workers, kills, relay_kills, web_worker_kills, broker_down, seed):
    rng = random.Random(seed)
    plan = []
    for _ in range(kills):
        kind = rng.choice(("kill_pool_child", "kill_worker"))
        plan.append(Fault(rng.uniform(0.03, 0.92), kind, rng.choice(workers)))
    for _ in range(relay_kills):
        plan.append(Fault(rng.uniform(0.05, 0.9), "kill_relay", "relay"))
    for _ in range(web_worker_kills):
        plan.append(Fault(rng.uniform(0.05, 0.9), "kill_web_worker", "web"))
    plan.append(Fault(rng.uniform(0.2, 0.3), "crash_broker", "rabbitmq"))
    plan.append(Fault(rng.uniform(0.55, 0.65), "stop_broker", "rabbitmq", detail=str(broker_down)))
    plan.append(Fault(rng.uniform(0.4, 0.5), "restart_web", "web"))
    return sorted(plan, key=lambda fault: fault.at)


class Chaos:
    def __init__(self, plan, *, supervisor, node, progress, planned, log, deadline):
        self.plan = plan
        self.supervisor = supervisor
        self.node = node
        self.progress = progress  # () -> requests sent so far
        self.planned = planned
        self.log = log
        self.deadline = deadline  # time.monotonic() after which it stops waiting
        self.error = None
        self.thread = threading.Thread(target=self._run, name="chaos", daemon=True)
        self.started = time.monotonic()

    @property
    def done(self):
        return not self.thread.is_alive()

    def start(self):
        self.thread.start()

    def _run(self):
        try:
            for fault in self.plan:
                while self.progress() < fault.at * self.planned:
                    if time.monotonic() > self.deadline:
                        self.log(f"chaos: deadline reached before {fault.kind}; stopping")
                        return
                    time.sleep(0.05)
                self._fire(fault)
                fault.done_at = time.monotonic() - self.started
                self.log(
                    f"chaos {fault.done_at:7.1f}s  {fault.kind:<16} {fault.target:<24} "
                    f"{fault.detail}  (requests sent: {self.progress()})"
                )
        except Exception as exc:  # reported; the suite fails on it
            self.error = exc
            self.log(f"chaos failed: {exc!r}")

    def _fire(self, fault):
        sup = self.supervisor
        if fault.kind == "kill_pool_child":
            pid = sup.kill_child(fault.target)
            fault.detail = f"pid {pid}" if pid else "no pool process alive (worker restarting)"
        elif fault.kind in ("kill_worker", "kill_relay"):
            pid = sup.kill_group(fault.target)
            fault.detail = f"pid {pid} and its group" if pid else "was not running"
        elif fault.kind == "kill_web_worker":
            pid = sup.kill_child("web")
            fault.detail = f"gunicorn worker pid {pid}" if pid else "no worker alive"
        elif fault.kind == "restart_web":
            started = time.monotonic()
            sup.restart("web")
            fault.detail = f"SIGTERM, restarted in {time.monotonic() - started:.1f}s"
        elif fault.kind == "crash_broker":
            self.node.crash()
            took = self.node.start()
            fault.detail = f"kill -9 of the node; back after {took:.1f}s of boot"
        elif fault.kind == "stop_broker":
            hold = float(fault.detail)
            self.node.stop()
            time.sleep(hold)
            took = self.node.start()
            fault.detail = f"clean stop, held down {hold:.0f}s, back after {took:.1f}s of boot"
