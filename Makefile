# Thin aliases: dev.py does the work, so the same tasks run where make is not installed.
.PHONY: setup demo test lint bench
setup:
	python3 dev.py setup
demo:
	python3 dev.py demo
test:
	python3 dev.py test
lint:
	python3 dev.py lint
bench:
	python3 dev.py bench
