# bangban: a static binary on distroless, running as a non-root user.
#
# Build: docker build -t bangban .
# The binary embeds tzdata (time/tzdata), so TZ works without zoneinfo files
# in the image.

FROM golang:1.26 AS build
WORKDIR /src
# Module downloads get their own layer, reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /bangban ./cmd/bangban

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /bangban /bangban
USER nonroot:nonroot
EXPOSE 8080
# No HEALTHCHECK: distroless has no shell or curl to run one. Orchestrators
# probe over HTTP instead: GET /healthz for liveness, GET /readyz for
# readiness (Redis reachable, workers running). docker-compose.yml relies on
# the restart policy, since bangban exits on a fatal error.
ENTRYPOINT ["/bangban"]
