"""What the API shows of each resource and what it accepts: render functions and inputs."""
