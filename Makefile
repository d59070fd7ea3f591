# The two commands of the README (and a few for developers). Each does its own set-up (venv, packages, migrations, services).
.PHONY: run test bench lock messages clean

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
	.venv/bin/python bench/api.py
	.venv/bin/python bench/metrics.py

# Recompile requirements.txt from requirements.in (pip-tools in a throwaway venv); ARGS=--upgrade to update.
lock:
	@bash scripts/lock.sh $(ARGS)

# Gather the UI's strings into locale/*/LC_MESSAGES/django.po (translate the new ones), then compile the .mo files
# (committed: the site runs without gettext). README: "Languages and time zones".
messages:
	.venv/bin/python manage.py makemessages --all
	.venv/bin/python manage.py compilemessages --ignore=.venv --ignore=var --ignore=staticfiles

clean:
	rm -rf var .venv staticfiles
