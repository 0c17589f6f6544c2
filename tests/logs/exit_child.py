"""Logs left in the batcher at exit and in a forked child: ``python exit_child.py DSN``.

The parent logs and ends without flush(); a forked child logs and ends with os._exit (as
multiprocessing and Celery prefork children do)."""

import os
import sys

import releasetag

releasetag.init(dsn=sys.argv[1], enable_logs=True, release="shop@3")
releasetag.logger.info("parent before fork")
pid = os.fork()
if pid == 0:
    releasetag.logger.info("child {n}", n=1)
    os._exit(0)
os.waitpid(pid, 0)
releasetag.logger.info("parent after fork")
