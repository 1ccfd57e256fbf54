from rest_framework import serializers


class DeadLetterSerializer(serializers.Serializer):
    message_id = serializers.CharField()
    queue = serializers.CharField(help_text="the work queue the message died in")
    dead_letter_queue = serializers.CharField()
    task = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
    first_death_at = serializers.CharField(allow_null=True)
    death_count = serializers.IntegerField()
    attempts = serializers.IntegerField(allow_null=True)
    correlation_id = serializers.CharField(allow_null=True)
    payload = serializers.JSONField()


class DeadLetterListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = DeadLetterSerializer(many=True)


class DeadLetterSettleSerializer(serializers.Serializer):
    message_id = serializers.CharField(required=False)
    all = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if bool(attrs.get("message_id")) == attrs["all"]:
            raise serializers.ValidationError("give either message_id or all=true")
        return attrs


class DeadLetterSettledSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    message_ids = serializers.ListField(child=serializers.CharField())
