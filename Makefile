# orgd — see README.md. Every target works on a fresh clone with Go installed.
GO      ?= go
DB      ?= sqlite:./orgd.db
ADDR    ?= 127.0.0.1:8080
PG_DSN  ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: build run test test-postgres lint bench bench-postgres bench-go fuzz clean

build:
	$(GO) build -o bin/orgd ./cmd/orgd

# Serves on http://127.0.0.1:8080 with a SQLite file in this directory and
# prints how to create the first user.
run: build
	./bin/orgd serve --addr $(ADDR) --db $(DB)

# PostgreSQL tests run too when ORGD_TEST_POSTGRES is set (see test-postgres).
test:
	$(GO) vet ./...
	$(GO) test -timeout 10m ./...

test-postgres:
	ORGD_TEST_POSTGRES='$(PG_DSN)' $(MAKE) test

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l reports:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# A short orgbench run (README "Performance"): seeds a SQLite database in a
# temporary directory, starts orgd serve on it, drives every scenario for
# BENCH_DURATION and prints the markdown table. The 1M-user run:
#   make bench BENCH_USERS=1000000 BENCH_DURATION=20s
BENCH_USERS    ?= 20000
BENCH_DURATION ?= 3s
BENCH_FLAGS    ?=
bench: build
	$(GO) build -o bin/orgbench ./cmd/orgbench
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	./bin/orgbench --orgd bin/orgd --db "sqlite:$$d/bench.db" --users $(BENCH_USERS) --duration $(BENCH_DURATION) $(BENCH_FLAGS)

# The same against two orgd serve on one fresh PostgreSQL database (PG_DSN's
# server; the database is created and dropped).
bench-postgres: build
	$(GO) build -o bin/orgbench ./cmd/orgbench
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	./bin/orgbench --orgd bin/orgd --db '$(PG_DSN)' --fresh-postgres --replicas 2 --state "$$d/state.json" --users $(BENCH_USERS) --duration $(BENCH_DURATION) $(BENCH_FLAGS)

# Go benchmarks of every package that has some.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem $$(grep -rl --include='*_test.go' '^func Benchmark' . | xargs -n1 dirname | sort -u)

# Runs every fuzz target (func FuzzX in any package) for FUZZTIME each;
# `make test` runs only their seed corpora. A failing input is written to
# the package's testdata/fuzz/FuzzX/ (it then runs in every go test); the
# run goes on with the other targets and fails at the end.
FUZZTIME ?= 30s
fuzz:
	@failed=""; for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for fn in $$(grep -h '^func Fuzz' $$pkg/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "== $$pkg $$fn ($(FUZZTIME))"; \
	    $(GO) test $$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) || failed="$$failed $$pkg:$$fn"; \
	  done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failing inputs found by:$$failed"; exit 1; fi; echo "fuzz: no failure"

clean:
	rm -rf bin
