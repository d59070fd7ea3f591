# The two commands of the README. Each does its own set-up (venv, packages, migrations, services).
.PHONY: run test bench lock clean

run:
	@bash scripts/run.sh || [ $$? -eq 130 ]  # 130: stopped by Ctrl-C

test:
	@bash scripts/setup.sh test
	@.venv/bin/python -m pytest -n 2 --dist loadfile -q

bench:
	@bash scripts/setup.sh test
	.venv/bin/python bench/sessions.py
	.venv/bin/python bench/spool.py
	.venv/bin/python bench/ingest.py
	.venv/bin/python bench/parse.py
	.venv/bin/python bench/html_guard.py

# Recompile requirements.txt from requirements.in (pip-tools in a throwaway venv); ARGS=--upgrade to update.
lock:
	@bash scripts/lock.sh $(ARGS)

clean:
	rm -rf var .venv staticfiles
