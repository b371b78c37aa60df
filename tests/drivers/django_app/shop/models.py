from django.db import models


class Counter(models.Model):
    v = models.IntegerField(default=0)

    class Meta:
        app_label = "shop"


class Job(models.Model):
    status = models.CharField(max_length=20, default="queued")

    class Meta:
        app_label = "shop"


class Row(models.Model):
    v = models.CharField(max_length=50)

    class Meta:
        app_label = "shop"
