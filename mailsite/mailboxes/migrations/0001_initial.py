"""The stored mail moves here from the webmail app by state only: the tables keep their names (db_table), no row
is copied. The content types follow, so permissions and admin history stay attached to the same models."""

import django.db.models.deletion
import mailsite.mailboxes.models
from django.conf import settings
from django.db import migrations, models


MODELS = ("mailaccount", "message", "attachment")


def relabel_content_types(old, new):
    def run(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        ContentType.objects.using(schema_editor.connection.alias).filter(
            app_label=old, model__in=MODELS).update(app_label=new)
    return run


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("webmail", "0002_inbound_polling"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(relabel_content_types("webmail", "mailboxes"),
                                     relabel_content_types("mailboxes", "webmail")),
            ],
            state_operations=[
                migrations.CreateModel(
                    name='MailAccount',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('address', models.EmailField(max_length=254)),
                        ('display_name', models.CharField(blank=True, max_length=200)),
                        ('incoming_protocol', models.CharField(choices=[('pop3', 'POP3'), ('imap', 'IMAP')], default='pop3', max_length=4)),
                        ('incoming_host', models.CharField(max_length=255)),
                        ('incoming_port', models.PositiveIntegerField()),
                        ('incoming_username', models.CharField(max_length=255)),
                        ('incoming_password', models.CharField(max_length=255)),
                        ('incoming_security', models.CharField(choices=[('none', 'None (plain text)'), ('starttls', 'STARTTLS / STLS'), ('tls', 'Implicit TLS')], default='tls', max_length=8)),
                        ('smtp_host', models.CharField(max_length=255)),
                        ('smtp_port', models.PositiveIntegerField()),
                        ('smtp_username', models.CharField(blank=True, max_length=255)),
                        ('smtp_password', models.CharField(blank=True, max_length=255)),
                        ('smtp_security', models.CharField(choices=[('none', 'None (plain text)'), ('starttls', 'STARTTLS / STLS'), ('tls', 'Implicit TLS')], default='starttls', max_length=8)),
                        ('poll_interval', models.PositiveIntegerField(blank=True, help_text='Seconds between polls. Empty: every POLL_INTERVAL_SECONDS (the beat interval).', null=True)),
                        ('delete_after_download', models.BooleanField(default=False, help_text='Delete each message from the server once it is stored here. Off: leave mail on the server.')),
                        ('delete_after_days', models.PositiveIntegerField(blank=True, help_text='Leaving mail on the server: delete it from there this many days after download.', null=True)),
                        ('imap_folders', models.JSONField(blank=True, default=mailsite.mailboxes.models.default_imap_folders, help_text='IMAP folders to sync (POP3 reads the inbox only).')),
                        ('poll_lease_until', models.DateTimeField(blank=True, null=True)),
                        ('poll_queued_at', models.DateTimeField(blank=True, null=True)),
                        ('next_poll_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                        ('last_polled_at', models.DateTimeField(blank=True, null=True)),
                        ('last_success_at', models.DateTimeField(blank=True, null=True)),
                        ('last_poll_error', models.TextField(blank=True)),
                        ('last_poll_error_detail', models.TextField(blank=True)),
                        ('poll_notice', models.TextField(blank=True)),
                        ('poll_failures', models.PositiveIntegerField(default=0, help_text='Failed polls in a row (for the backoff).')),
                        ('last_poll_fetched', models.PositiveIntegerField(default=0)),
                        ('sync_done', models.PositiveIntegerField(default=0)),
                        ('sync_total', models.PositiveIntegerField(default=0)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='mail_accounts', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'webmail_mailaccount',
                        'ordering': ['address'],
                    },
                ),
                migrations.CreateModel(
                    name='Message',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('folder', models.CharField(blank=True, default='', max_length=255)),
                        ('uid', models.CharField(max_length=255)),
                        ('on_server', models.BooleanField(default=True)),
                        ('raw_compressed', models.BinaryField()),
                        ('sha256', models.CharField(blank=True, max_length=64)),
                        ('size', models.PositiveIntegerField()),
                        ('too_large', models.BooleanField(default=False)),
                        ('sender', models.CharField(blank=True, max_length=998)),
                        ('to', models.TextField(blank=True)),
                        ('cc', models.TextField(blank=True)),
                        ('subject', models.CharField(blank=True, max_length=998)),
                        ('date', models.DateTimeField(blank=True, null=True)),
                        ('message_id', models.CharField(blank=True, max_length=998)),
                        ('in_reply_to', models.CharField(blank=True, max_length=998)),
                        ('references', models.TextField(blank=True)),
                        ('conversation_id', models.CharField(blank=True, max_length=64)),
                        ('text', models.TextField(blank=True)),
                        ('html', models.TextField(blank=True)),
                        ('snippet', models.CharField(blank=True, max_length=200)),
                        ('has_html', models.BooleanField(default=False)),
                        ('has_attachments', models.BooleanField(default=False)),
                        ('parse_error', models.BooleanField(default=False)),
                        ('defects', models.TextField(blank=True)),
                        ('seen', models.BooleanField(default=False)),
                        ('fetched_at', models.DateTimeField(auto_now_add=True)),
                        ('account', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='mailboxes.mailaccount')),
                    ],
                    options={
                        'db_table': 'webmail_message',
                        'ordering': ['-fetched_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Attachment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('filename', models.CharField(blank=True, help_text='As sent: never used as a path.', max_length=1000)),
                        ('safe_filename', models.CharField(max_length=255)),
                        ('content_type', models.CharField(max_length=255)),
                        ('content_id', models.CharField(blank=True, max_length=998)),
                        ('size', models.PositiveBigIntegerField()),
                        ('sha256', models.CharField(db_index=True, max_length=64)),
                        ('file', models.FileField(max_length=255, upload_to='')),
                        ('message', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='mailboxes.message')),
                    ],
                    options={
                        'db_table': 'webmail_attachment',
                        'ordering': ['id'],
                    },
                ),
                migrations.AddIndex(
                    model_name='message',
                    index=models.Index(fields=['account', '-fetched_at'], name='webmail_mes_account_8f6374_idx'),
                ),
                migrations.AddIndex(
                    model_name='message',
                    index=models.Index(fields=['account', 'conversation_id'], name='message_conversation'),
                ),
                migrations.AddConstraint(
                    model_name='message',
                    constraint=models.UniqueConstraint(fields=('account', 'folder', 'uid'), name='message_unique_uid_per_folder'),
                ),
            ],
        ),
    ]
