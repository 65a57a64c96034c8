# gopbx: `make run` starts the PBX on its embedded defaults; `make test`
# installs what the tests need and runs them all.
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.Version=$(VERSION)

.PHONY: build run test bench clean

build:
	go build -ldflags "$(LDFLAGS)" -o bin/gopbx ./cmd/gopbx

run: build
	./bin/gopbx serve

test:
	scripts/test.sh

bench:
	scripts/bench.sh

clean:
	rm -rf bin
