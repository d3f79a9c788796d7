from django.db import models


class Row(models.Model):
    """One row per request: a payload and a key the client chose, unique like a signature's."""

    key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "ceiling"
        db_table = "bench_ceiling_row"

    def __str__(self) -> str:
        return self.key
