"""Local Spark worker of the Lakewatt Jobs API emulator: the local stand-in for a Databricks cluster.

The emulator (``local/databricks/worker.ts``) starts this script with the project's ``.venv`` Python and
talks to it in JSON lines: commands on stdin, events on file descriptor 3. stdout and stderr carry only what
the JVM and native code print; each task's own ``print``/``sys.stderr`` output goes to that task's log file.

One SparkSession lives as long as the worker (started on first use), so a task does not pay a JVM start. Tasks
run one at a time, each in a fresh thread: with PySpark's pinned threads every thread has its own Py4J
connection, so abandoning a cancelled task cannot leave a half-read answer on a connection the next task uses.
A task that raises leaves the worker usable. Cancelling cancels the task's Spark job group and then raises
``TaskCanceled`` inside the task thread; a task that still does not stop is the emulator's to kill.

SQL statements (the emulator's SQL Statement Execution API) run beside tasks, each in a thread of its own on
a second SparkSession (``sql_statements.py``): ``{"op": "sql", "id", "statement", ...}`` answers
``sql_started`` and ``sql_done``; ``{"op": "sql_cancel", "id"}`` cancels its Spark jobs.

Commands: ``{"op": "run", "id", "kind": "python_file"|"wheel", ...}``, ``{"op": "cancel", "id"}``,
``{"op": "sql", ...}``, ``{"op": "sql_cancel", "id"}``, ``{"op": "warm"}``, ``{"op": "exit"}``. End of stdin
means the emulator is gone: the worker exits.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib
import importlib.metadata
import json
import os
import re
import runpy
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

# Imported before any task runs, so the task module purge never drops it (it lives beside this script).
import sql_statements

PROTOCOL_FD = 3


class TaskCanceled(BaseException):
    """Raised inside a task thread when the emulator cancels the run.

    A BaseException, so that ``except Exception`` in job code lets it pass.
    """


def now_ms() -> int:
    return int(time.time() * 1000)


def task_trace(exc: BaseException) -> str:
    """The traceback from the task's own frames on (the worker's and runpy's frames are noise)."""
    tb = exc.__traceback__
    while tb is not None and (
        tb.tb_frame.f_code.co_filename == __file__ or tb.tb_frame.f_code.co_filename.startswith("<frozen")
    ):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


class Channel:
    """Events to the emulator, one JSON object per line on fd 3."""

    def __init__(self, fd: int) -> None:
        self._out = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()

    def send(self, event: str, **fields: Any) -> None:
        line = json.dumps({"ev": event, **fields})
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


class RoutedStream:
    """Stands in for sys.stdout/sys.stderr: while a task runs, writes go to the task's log."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self.target: TextIO | None = None

    def write(self, text: str) -> int:
        target = self.target or self.fallback
        return target.write(text)

    def flush(self) -> None:
        (self.target or self.fallback).flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return "utf-8"

    def fileno(self) -> int:
        return self.fallback.fileno()


class Task:
    def __init__(self, command: dict[str, Any]) -> None:
        self.id: str = command["id"]
        self.command = command
        self.cancel_reason: str | None = None
        self.in_body = False
        self.thread: threading.Thread | None = None
        self.group = f"lakewatt-{self.id}"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve_entry_point(package_name: str, entry_point: str) -> Any:
    """The callable a python_wheel_task names: an entry point of the package, else ``package.entry_point``."""
    wanted = _normalise(package_name)
    for dist in importlib.metadata.distributions():
        if _normalise(dist.metadata["Name"] or "") != wanted:
            continue
        for candidate in dist.entry_points:
            if candidate.name == entry_point:
                return candidate.load()
    module = importlib.import_module(package_name.replace("-", "_"))
    target = getattr(module, entry_point, None)
    if target is None:
        raise LookupError(f"package {package_name} has no entry point {entry_point}")
    return target


class Worker:
    def __init__(self, config: dict[str, Any], channel: Channel) -> None:
        self.config = config
        self.channel = channel
        self.spark: Any = None
        self.current: Task | None = None
        self.lock = threading.Lock()
        self.stdout = RoutedStream(sys.stdout)
        self.stderr = RoutedStream(sys.stderr)
        sys.stdout = self.stdout
        sys.stderr = self.stderr
        self.purge_roots = [str(Path(p).resolve()) for p in config.get("purgeRoots", [])]
        self.site_prefixes = tuple({str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix)})
        self.sql_session: Any = None
        self.sql_threads: dict[str, threading.Thread] = {}
        self.sql_canceled: set[str] = set()
        self.lake_catalog = sql_statements.LakeCatalog()

    # -- Spark ---------------------------------------------------------------------------------------------
    def ensure_spark(self) -> Any:
        with self.lock:
            if self.spark is not None:
                return self.spark
            started = time.monotonic()
            from lakewatt.spark import WARM_WORKER_CONF, build_local_spark

            conf: dict[str, str] = {**WARM_WORKER_CONF, **self.config.get("sparkConf", {})}
            warehouse = self.config.get("warehouseDir")
            java_options = list(self.config.get("javaOptions", []))
            derby = self.config.get("derbyHome")
            if derby:
                java_options.append(f"-Dderby.system.home={derby}")
            self.spark = build_local_spark(
                self.config.get("appName", "lakewatt-jobs-emulator"),
                warehouse_dir=warehouse,
                master=self.config.get("master", "local[2]"),
                driver_memory=self.config.get("driverMemory", "1g"),
                java_options=java_options,
                extra_conf=conf,
            )
            self.channel.send(
                "spark_ready", ms=int((time.monotonic() - started) * 1000), version=self.spark.version
            )
            return self.spark

    def ensure_sql_session(self) -> Any:
        """The statements' SparkSession: the worker's SparkContext, catalog and caches; its own settings."""
        spark = self.ensure_spark()
        with self.lock:
            if self.sql_session is None:
                session = spark.newSession()
                # No `<format>.`<path>`` relations in statements: they read any file the worker can read.
                session.conf.set("spark.sql.runSQLOnFiles", "false")
                self.sql_session = session
            return self.sql_session

    # -- commands ------------------------------------------------------------------------------------------
    def start(self, command: dict[str, Any]) -> None:
        if self.current is not None:
            self.channel.send(
                "done", id=command["id"], status="rejected", error="the worker is busy with another task"
            )
            return
        task = Task(command)
        self.current = task
        task.thread = threading.Thread(
            target=self._execute, args=(task,), name=f"task-{task.id}", daemon=True
        )
        task.thread.start()

    def cancel(self, task_id: str, reason: str) -> None:
        task = self.current
        if task is None or task.id != task_id or task.cancel_reason is not None:
            return
        task.cancel_reason = reason
        self._cancel_jobs(task)
        threading.Thread(target=self._interrupt, args=(task,), daemon=True).start()

    def _cancel_jobs(self, task: Task) -> None:
        if self.spark is not None:
            with contextlib.suppress(Exception):
                self.spark.sparkContext.cancelJobGroup(task.group)

    def _interrupt(self, task: Task) -> None:
        """Keep stopping a cancelled task until it ends.

        A Spark job submitted after the first cancel (the task was still planning it) is cancelled on the next
        round; pure Python work (loops, sleeps) gets TaskCanceled raised in the task thread at its next
        bytecode. A task blocked in native code is left to the emulator, which kills the worker.
        """
        delay = 0.3
        while task.thread is not None and task.thread.is_alive():
            time.sleep(delay)
            delay = 1.0
            self._cancel_jobs(task)
            if task.in_body and task.thread.ident is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(task.thread.ident), ctypes.py_object(TaskCanceled)
                )

    # -- SQL statements ------------------------------------------------------------------------------------
    def start_sql(self, command: dict[str, Any]) -> None:
        thread = threading.Thread(
            target=self._execute_sql, args=(command,), name=f"sql-{command['id']}", daemon=True
        )
        self.sql_threads[command["id"]] = thread
        thread.start()

    def cancel_sql(self, statement_id: str) -> None:
        """Cancels the statement's Spark jobs, again and again until its thread ends.

        A cancel can arrive while the statement is still registering tables or planning, before its first
        Spark job exists: the thread checks for it before it starts the query, and a job submitted after the
        first cancel is cancelled on the next round.
        """
        thread = self.sql_threads.get(statement_id)
        if thread is None or statement_id in self.sql_canceled:
            return
        self.sql_canceled.add(statement_id)

        def keep_cancelling() -> None:
            delay = 0.0
            while thread.is_alive():
                if self.spark is not None:
                    with contextlib.suppress(Exception):
                        self.spark.sparkContext.cancelJobGroup(f"lakewatt-sql-{statement_id}")
                time.sleep(delay)
                delay = min(1.0, delay + 0.2)

        threading.Thread(target=keep_cancelling, daemon=True).start()

    def _sql_started(self, statement_id: str) -> None:
        if statement_id in self.sql_canceled:
            raise sql_statements.StatementFailed("CANCELLED", "the statement was cancelled")
        self.channel.send("sql_started", id=statement_id, at=now_ms())

    def _execute_sql(self, command: dict[str, Any]) -> None:
        statement_id = command["id"]
        group = f"lakewatt-sql-{statement_id}"
        try:
            session = self.ensure_sql_session()
            context = session.sparkContext
            context.setJobGroup(group, f"Lakewatt SQL statement {statement_id}", interruptOnCancel=True)
            context.setLocalProperty("spark.scheduler.pool", sql_statements.SQL_POOL)
            self.lake_catalog.register(session, command.get("roots", {}))
            result = sql_statements.execute(
                session,
                command["statement"],
                parameters=command.get("parameters") or (),
                row_limit=command.get("rowLimit"),
                byte_limit=command.get("byteLimit"),
                on_started=lambda: self._sql_started(statement_id),
            )
            self.channel.send("sql_done", id=statement_id, status="ok", **result, at=now_ms())
        except BaseException as exc:
            if statement_id in self.sql_canceled:
                self.channel.send("sql_done", id=statement_id, status="canceled", at=now_ms())
            else:
                error = sql_statements.error_of(exc)
                self.channel.send(
                    "sql_done",
                    id=statement_id,
                    status="failed",
                    error_code=error.error_code,
                    message=error.message,
                    at=now_ms(),
                )
        finally:
            self.sql_canceled.discard(statement_id)
            self.sql_threads.pop(statement_id, None)
            if self.spark is not None:
                with contextlib.suppress(Exception):
                    self.spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)

    # -- one task ------------------------------------------------------------------------------------------
    def _execute(self, task: Task) -> None:
        command = task.command
        log = open(command["log"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - closed in finally
        modules_before = set(sys.modules)
        saved_env = dict(os.environ)
        saved_cwd = os.getcwd()
        saved_argv = list(sys.argv)
        status, error, trace = "ok", None, None
        try:
            try:
                spark = self.ensure_spark()
            except Exception as exc:
                self.channel.send(
                    "done",
                    id=task.id,
                    status="setup_failed",
                    error=f"{type(exc).__name__}: {exc}",
                    trace=traceback.format_exc(),
                    at=now_ms(),
                )
                return
            self.stdout.target = log
            self.stderr.target = log
            os.environ.update(command.get("env", {}))
            if command.get("cwd"):
                os.chdir(command["cwd"])
            spark.sparkContext.setJobGroup(task.group, f"Lakewatt task {task.id}", interruptOnCancel=True)
            # Make the shared session this thread's active one (active sessions are per JVM thread).
            jvm_session = spark._jsparkSession
            spark.sparkContext._jvm.SparkSession.setActiveSession(jvm_session)
            self.channel.send("started", id=task.id, at=now_ms())
            task.in_body = True
            try:
                self._run_target(command)
            finally:
                task.in_body = False
        except TaskCanceled:
            status = "canceled"
        except SystemExit as exc:
            if exc.code not in (None, 0):
                status, error = "failed", f"SystemExit: the task exited with status {exc.code}"
        except BaseException as exc:
            status, error, trace = "failed", f"{type(exc).__name__}: {exc}", task_trace(exc)
        finally:
            task.in_body = False
            if task.cancel_reason is not None:
                status = "canceled"
            with contextlib.suppress(BaseException):
                self._cleanup(log, modules_before, saved_env, saved_cwd, saved_argv)
            if status == "failed" and trace:
                with contextlib.suppress(Exception), open(command["log"], "a", encoding="utf-8") as tail:
                    tail.write(trace)
            self.current = None
            if status != "setup_failed":
                self.channel.send(
                    "done",
                    id=task.id,
                    status=status,
                    error=error,
                    trace=trace,
                    reason=task.cancel_reason,
                    at=now_ms(),
                )

    def _run_target(self, command: dict[str, Any]) -> None:
        args = [str(a) for a in command.get("args", [])]
        if command["kind"] == "python_file":
            path = command["file"]
            if not Path(path).is_file():
                raise FileNotFoundError(f"python_file {path} does not exist")
            sys.argv = [path, *args]
            sys.path.insert(0, str(Path(path).parent))
            try:
                runpy.run_path(path, run_name="__main__")
            finally:
                with contextlib.suppress(ValueError):
                    sys.path.remove(str(Path(path).parent))
        elif command["kind"] == "wheel":
            target = resolve_entry_point(command["package"], command["entryPoint"])
            sys.argv = [command["package"], *args]
            target()
        else:
            raise ValueError(f"unknown task kind {command['kind']}")

    def _cleanup(
        self,
        log: TextIO,
        modules_before: set[str],
        saved_env: dict[str, str],
        saved_cwd: str,
        saved_argv: list[str],
    ) -> None:
        self.stdout.target = None
        self.stderr.target = None
        log.flush()
        log.close()
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        if self.spark is not None:
            with contextlib.suppress(Exception):
                self.spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
                self.spark.catalog.clearCache()
        # Project modules a task imported are dropped, so the next run sees edited job code (as a fresh
        # Databricks run would); installed libraries stay loaded.
        for name in set(sys.modules) - modules_before:
            module = sys.modules.get(name)
            file = getattr(module, "__file__", None)
            if not file:
                continue
            resolved = str(Path(file).resolve())
            if resolved.startswith(self.site_prefixes):
                continue
            if any(resolved.startswith(root) for root in self.purge_roots):
                del sys.modules[name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="{}", help="JSON: Spark settings and module purge roots")
    options = parser.parse_args()
    channel = Channel(PROTOCOL_FD)
    worker = Worker(json.loads(options.config), channel)
    channel.send("ready", pid=os.getpid(), python=sys.version.split()[0])
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            command = json.loads(line)
        except json.JSONDecodeError:
            channel.send("protocol_error", error=f"not JSON: {line[:200]}")
            continue
        op = command.get("op")
        if op == "run":
            worker.start(command)
        elif op == "cancel":
            worker.cancel(command["id"], command.get("reason", "canceled"))
        elif op == "sql":
            worker.start_sql(command)
        elif op == "sql_cancel":
            worker.cancel_sql(command["id"])
        elif op == "warm":
            try:
                worker.ensure_spark()
            except Exception as exc:
                channel.send("warm_failed", error=f"{type(exc).__name__}: {exc}")
        elif op == "exit":
            break
        else:
            channel.send("protocol_error", error=f"unknown op {op}")
    # The emulator is gone or asked us to stop: do not wait for a task that may never end.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
