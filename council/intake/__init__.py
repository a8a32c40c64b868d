"""Decision intake (issue 16): reading what the bodies publish and reply, and finding in it the
decisions on our proposals. Parsers here are pure: text or pages in, findings out; the services
layer matches findings to proposals and stores them as candidates for the coordinator to confirm."""
